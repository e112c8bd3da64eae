import type { Pool, PoolClient } from '../db/create-pool.js';
import { inTransaction } from '../db/in-transaction.js';
import { withRetry } from '../db/with-retry.js';
import { extractLinks, type LinkObservation } from './extract-links.js';
import type { IngestFollowUps } from './ingest-follow-ups.js';
import { recordRoutes } from './record-routes.js';
import type { Result } from './result-schema.js';
import { routeObservation } from './route-paths.js';

export interface StoreOutcome {
  accepted: number;
  duplicate: number;
  /** Intermediate hops of the stored traceroutes (for --input-url). */
  hops: string[];
  newHops: number;
  links: number;
  /** Traces that showed their route on another path than before (route_changes). */
  routeChanges: number;
}

/**
 * Stores a batch of validated results in one transaction: an id seen before (by any instance) is skipped,
 * the rest go into the day's partition with multi-row statements (unnest), their leases are acknowledged,
 * their links aggregated, and their intermediate hops join the target pool. Committed when it resolves.
 * Acks, hops and alias evidence are `followUps`' (targets', aliases'), run on the batch's client in that
 * transaction.
 */
export function storeResults(
  pool: Pool,
  batch: Result[],
  followUps: IngestFollowUps,
  opts: StoreOptions = {},
): Promise<StoreOutcome> {
  return withRetry(() => storeOnce(pool, batch, followUps, opts), { what: 'store results' });
}

export interface StoreOptions {
  /** When each result was first received, by id (merging another deployment's dump); default now. */
  receivedAt?: ReadonlyMap<string, string>;
}

function storeOnce(pool: Pool, batch: Result[], followUps: IngestFollowUps, opts: StoreOptions): Promise<StoreOutcome> {
  const unique = [...new Map(batch.map((r) => [r.id, r])).values()];
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `with new_ids as (insert into result_ids (id, received_at) select id, coalesce(ra, now()) from unnest($1::uuid[], $8::timestamptz[]) as u(id, ra) on conflict do nothing returning id)
       insert into measurements.results (id, received_at, measured_at, type, worker, target, lease, body)
       select r.id, coalesce(r.received_at, now()), r.measured_at, r.type, r.worker, r.target, r.lease, r.body
         from unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::inet[], $6::uuid[], $7::jsonb[], $8::timestamptz[])
              as r(id, measured_at, type, worker, target, lease, body, received_at)
         join new_ids using (id)
       returning id`,
      [
        unique.map((r) => r.id),
        unique.map((r) => r.started_at),
        unique.map((r) => r.type),
        unique.map((r) => r.worker),
        unique.map((r) => r.target),
        unique.map((r) => r.lease),
        unique.map((r) => JSON.stringify(r)),
        unique.map((r) => opts.receivedAt?.get(r.id) ?? null),
      ],
    );
    const stored = new Set(rows.map((r) => r.id));
    const fresh = unique.filter((r) => stored.has(r.id));
    await followUps.ackLeases(
      client,
      fresh.filter((r) => r.lease).map((r) => ({ lease: r.lease!, target: r.target })),
    );
    const observations = fresh.map(extractLinks);
    const links = await upsertLinks(
      client,
      observations.flatMap((o) => o.links),
    );
    const hops = [...new Set(observations.flatMap((o) => o.hops))];
    const added = await followUps.addHops(client, hops);
    const routes = await recordRoutes(
      client,
      fresh.map(routeObservation).filter((o) => o !== null),
    );
    await followUps.storeAliasEvidence(client, fresh);
    return {
      accepted: fresh.length,
      duplicate: batch.length - fresh.length,
      hops,
      newHops: added.added,
      links,
      routeChanges: routes.changes,
    };
  });
}

/** One statement per batch, links aggregated first so each (near, far) row is touched once. */
export async function upsertLinks(client: PoolClient, observations: LinkObservation[]): Promise<number> {
  if (observations.length === 0) return 0;
  const agg = new Map<
    string,
    { near: string; far: string; first: string; last: string; count: number; min: number; max: number; sum: number }
  >();
  for (const o of observations) {
    const key = `${o.near}>${o.far}`;
    const a = agg.get(key);
    if (!a)
      agg.set(key, {
        near: o.near,
        far: o.far,
        first: o.seenAt,
        last: o.seenAt,
        count: 1,
        min: o.deltaUs,
        max: o.deltaUs,
        sum: o.deltaUs,
      });
    else {
      a.count++;
      a.min = Math.min(a.min, o.deltaUs);
      a.max = Math.max(a.max, o.deltaUs);
      a.sum += o.deltaUs;
      if (o.seenAt < a.first) a.first = o.seenAt;
      if (o.seenAt > a.last) a.last = o.seenAt;
    }
  }
  const rows = [...agg.values()].sort((x, y) => (x.near + x.far < y.near + y.far ? -1 : 1)); // a fixed order avoids deadlocks between instances
  await client.query(
    `insert into links (near, far, first_seen_at, last_seen_at, count, delta_min_us, delta_max_us, delta_sum_us)
     select * from unnest($1::inet[], $2::inet[], $3::timestamptz[], $4::timestamptz[], $5::bigint[], $6::real[], $7::real[], $8::float8[])
     on conflict (near, far) do update set
       first_seen_at = least(links.first_seen_at, excluded.first_seen_at),
       last_seen_at = greatest(links.last_seen_at, excluded.last_seen_at),
       count = links.count + excluded.count,
       delta_min_us = least(links.delta_min_us, excluded.delta_min_us),
       delta_max_us = greatest(links.delta_max_us, excluded.delta_max_us),
       delta_sum_us = links.delta_sum_us + excluded.delta_sum_us`,
    [
      rows.map((r) => r.near),
      rows.map((r) => r.far),
      rows.map((r) => r.first),
      rows.map((r) => r.last),
      rows.map((r) => r.count),
      rows.map((r) => r.min),
      rows.map((r) => r.max),
      rows.map((r) => r.sum),
    ],
  );
  return rows.length;
}
