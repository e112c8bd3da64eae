import type { Pool } from '../../db/create-pool.js';
import { int8 } from '../../db/int8.js';
import type { PathHops } from '../../results/route-paths.js';

export interface CurrentRoute {
  method: string;
  flow: number;
  hops: PathHops;
  reached: boolean;
  first_seen_at: Date;
  last_seen_at: Date;
  observations: number;
}

export interface PageChange {
  id: number;
  worker: string;
  target: string;
  method: string;
  flow: number;
  diverge_ttl: number;
  after_first_seen_at: Date;
  before: PathHops;
  after: PathHops;
}

/** The workers that have at least one route, for the explorer's select. */
export async function routeWorkers(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ worker: string }>(`select distinct worker from route_current order by worker`);
  return rows.map((r) => r.worker);
}

/** Each of `worker`'s routes to `target` with the span it is on now (route_current, not the clock). */
export async function currentRoutes(pool: Pool, worker: string, target: string): Promise<CurrentRoute[]> {
  const { rows } = await pool.query<Omit<CurrentRoute, 'observations'> & { observations: string }>(
    `select c.method, c.flow, p.hops, p.reached, s.first_seen_at, s.last_seen_at, s.observations
       from route_current c join route_spans s on s.id = c.span_id join paths p on p.id = s.path_id
      where c.worker = $1 and c.target = $2::inet
      order by c.method, c.flow`,
    [worker, target],
  );
  return rows.map((r) => ({ ...r, observations: int8(r.observations) }));
}

/**
 * Route changes newest first, with the paths before and after: of one worker and target (the explorer) or
 * of everyone since a time (the timeline). Both filters are served by an index on route_changes.
 */
export async function changesNewestFirst(
  pool: Pool,
  f: { worker?: string; target?: string; since?: string; limit: number },
): Promise<PageChange[]> {
  const { rows } = await pool.query<Omit<PageChange, 'id'> & { id: string }>(
    `select c.id, c.worker, host(c.target) as target, c.method, c.flow, c.diverge_ttl, c.after_first_seen_at, bp.hops as before, ap.hops as after
       from route_changes c
       join route_spans bs on bs.id = c.before_span_id join paths bp on bp.id = bs.path_id
       join route_spans as_ on as_.id = c.after_span_id join paths ap on ap.id = as_.path_id
      where ($1::text is null or c.worker = $1) and ($2::inet is null or c.target = $2) and ($3::timestamptz is null or c.after_first_seen_at >= $3)
      order by c.after_first_seen_at desc, c.id desc
      limit $4`,
    [f.worker ?? null, f.target ?? null, f.since ?? null, f.limit],
  );
  return rows.map((r) => ({ ...r, id: int8(r.id) }));
}
