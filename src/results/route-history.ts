import type { Pool } from '../db/create-pool.js';
import { int8 } from '../db/int8.js';
import type { PathHops } from './route-paths.js';

export interface SpanView {
  span_id: number;
  method: string;
  flow: number;
  hops: PathHops;
  reached: boolean;
  first_seen_at: string;
  last_seen_at: string;
  observations: number;
}

export interface RouteChangeView {
  id: number;
  worker: string;
  target: string;
  method: string;
  flow: number;
  diverge_ttl: number;
  before_last_seen_at: string;
  after_first_seen_at: string;
  detected_at: string;
  result_id: string;
  before: SpanView;
  after: SpanView;
}

const spanJson = (s: string, p: string) =>
  `json_build_object('span_id', ${s}.id, 'method', ${s}.method, 'flow', ${s}.flow, 'hops', ${p}.hops, 'reached', ${p}.reached,
     'first_seen_at', ${s}.first_seen_at, 'last_seen_at', ${s}.last_seen_at, 'observations', ${s}.observations)`;

export interface ChangesFilter {
  since?: string | undefined;
  worker?: string | undefined;
  target?: string | undefined;
  /** Only changes with a greater id (the `next` of the previous page). */
  after?: number | undefined;
  limit: number;
}

/** Route changes in id order (the order they were recorded), each with the span and path before and after. */
export async function listRouteChanges(pool: Pool, f: ChangesFilter): Promise<RouteChangeView[]> {
  const { rows } = await pool.query<{ change: RouteChangeView }>(
    `select json_build_object('id', c.id, 'worker', c.worker, 'target', host(c.target), 'method', c.method, 'flow', c.flow,
              'diverge_ttl', c.diverge_ttl, 'before_last_seen_at', c.before_last_seen_at, 'after_first_seen_at', c.after_first_seen_at,
              'detected_at', c.detected_at, 'result_id', c.result_id, 'before', ${spanJson('bs', 'bp')}, 'after', ${spanJson('as_', 'ap')}) as change
       from route_changes c
       join route_spans bs on bs.id = c.before_span_id join paths bp on bp.id = bs.path_id
       join route_spans as_ on as_.id = c.after_span_id join paths ap on ap.id = as_.path_id
      where ($1::timestamptz is null or c.after_first_seen_at >= $1)
        and ($2::text is null or c.worker = $2)
        and ($3::inet is null or c.target = $3)
        and c.id > $4
      order by c.id
      limit $5`,
    [f.since ?? null, f.worker ?? null, f.target ?? null, f.after ?? 0, f.limit],
  );
  return rows.map((r) => ({ ...r.change, id: int8(r.change.id) }));
}

/**
 * The path each of a worker's routes to a target was on at time `at`: per (method, flow), the span that had
 * started by then, the latest such. `last_seen_at` before `at` means the route was not traced since.
 */
export async function routePathsAt(pool: Pool, worker: string, target: string, at: string): Promise<SpanView[]> {
  const { rows } = await pool.query<{ span: SpanView }>(
    `select ${spanJson('s', 'p')} as span
       from (select distinct on (method, flow) * from route_spans
              where worker = $1 and target = $2::inet and first_seen_at <= $3::timestamptz
              order by method, flow, first_seen_at desc, id desc) s
       join paths p on p.id = s.path_id
      order by s.method, s.flow`,
    [worker, target, at],
  );
  return rows.map((r) => r.span);
}
