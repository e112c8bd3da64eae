import type { PoolClient } from '../db/create-pool.js';
import { int8 } from '../db/int8.js';
import {
  divergeTtl,
  mergeExact,
  MULTIPATH_FLOW,
  pathHash,
  unionPath,
  type RouteObservation,
  type RoutePath,
} from './route-paths.js';

export interface RouteOutcome {
  /** Route observations that started a new path (a route-change event each). */
  changes: number;
  /** Observations older than what the route already shows (a late spool); they change nothing. */
  stale: number;
}

interface Span extends RoutePath {
  id: number;
  isNew: boolean;
  pathId: number;
  firstSeenAt: number;
  lastSeenAt: number;
  addedObservations: number;
  firstResult: string;
  lastResult: string;
}

interface Change {
  key: RouteKey;
  before: Span;
  after: Span;
  divergeTtl: number;
  resultId: string;
}

type RouteKey = Pick<RouteObservation, 'worker' | 'target' | 'method' | 'flow'>;
const keyOf = (o: RouteKey) => `${o.worker}\u0000${o.target}\u0000${o.method}\u0000${o.flow}`;

/**
 * Follows each route (worker, target, method, flow) through the batch's traces, in the caller's transaction:
 * a trace on the route's current path extends its span; a trace that diverges opens a new span and records a
 * route change with both. The route's row in route_current is locked first, so instances ingesting traces of
 * the same route at once take turns; rows are locked in key order, so they cannot deadlock.
 * About ten statements per batch, whatever its size.
 */
export async function recordRoutes(client: PoolClient, observations: RouteObservation[]): Promise<RouteOutcome> {
  if (observations.length === 0) return { changes: 0, stale: 0 };
  const byKey = new Map<string, RouteObservation[]>();
  for (const o of observations) {
    const list = byKey.get(keyOf(o));
    if (list) list.push(o);
    else byKey.set(keyOf(o), [o]);
  }
  const keys = [...byKey.values()].map((list) => list[0]!);
  const current = await lockRoutes(client, keys);

  const touched: Span[] = [];
  const changes: Change[] = [];
  let stale = 0;
  for (const [i, key] of keys.entries()) {
    let span = current[i];
    const multipath = key.flow === MULTIPATH_FLOW;
    const list = byKey.get(keyOf(key))!.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    for (const o of list) {
      const at = Date.parse(o.at);
      if (span && at < span.lastSeenAt) {
        stale++;
        continue;
      }
      const fresh = (): Span => ({
        id: 0,
        isNew: true,
        pathId: 0,
        hops: o.hops,
        reached: o.reached,
        silentTtls: o.silentTtls,
        firstSeenAt: at,
        lastSeenAt: at,
        addedObservations: 1,
        firstResult: o.resultId,
        lastResult: o.resultId,
      });
      if (!span) {
        span = fresh();
        touched.push(span);
        continue;
      }
      const diverge = divergeTtl(span, o, multipath ? 'overlap' : 'exact');
      if (diverge === null) {
        if (!touched.includes(span)) touched.push(span);
        span.lastSeenAt = at;
        span.addedObservations++;
        span.lastResult = o.resultId;
        // Same route: keep the most complete picture of it (a router that started answering fills in its `*`;
        // a multipath route gathers the branches each trace found).
        if (multipath) Object.assign(span, unionPath(span, o));
        else Object.assign(span, mergeExact(span, o));
      } else {
        const next = fresh();
        changes.push({ key, before: span, after: next, divergeTtl: diverge, resultId: o.resultId });
        touched.push(next);
        span = next;
      }
    }
    current[i] = span;
  }

  const pathIds = await internPaths(client, touched);
  for (const s of touched) s.pathId = pathIds.get(pathHash(s))!;
  await writeSpans(client, keys, current, touched, changes);
  return { changes: changes.length, stale };
}

/** Stores each distinct path once; returns the id of every given path by hash. */
async function internPaths(client: PoolClient, pictures: RoutePath[]): Promise<Map<string, number>> {
  const byHash = new Map(pictures.map((p) => [pathHash(p), p]));
  const hashes = [...byHash.keys()].sort();
  await client.query(
    `insert into paths (hash, hops, reached, silent_ttls)
     select h, p, r, coalesce(array(select jsonb_array_elements_text(s)::int), '{}') from unnest($1::uuid[], $2::jsonb[], $3::bool[], $4::jsonb[]) as u(h, p, r, s)
     on conflict (hash) do nothing`,
    [
      hashes,
      hashes.map((h) => JSON.stringify(byHash.get(h)!.hops)),
      hashes.map((h) => byHash.get(h)!.reached),
      hashes.map((h) => JSON.stringify(byHash.get(h)!.silentTtls ?? [])),
    ],
  );
  // A separate statement: it sees paths another instance inserted while this one waited on the conflict.
  const { rows } = await client.query<{ id: string; hash: string }>(
    `select id, hash from paths where hash = any($1::uuid[])`,
    [hashes],
  );
  return new Map(rows.map((r) => [r.hash, int8(r.id)]));
}

const keyArrays = (keys: RouteKey[]) => [
  keys.map((k) => k.worker),
  keys.map((k) => k.target),
  keys.map((k) => k.method),
  keys.map((k) => k.flow),
];

/** Creates the routes' rows where missing, then locks them all in key order and reads each one's open span. */
async function lockRoutes(client: PoolClient, keys: RouteKey[]): Promise<Array<Span | undefined>> {
  const args = keyArrays(keys);
  await client.query(
    `insert into route_current (worker, target, method, flow)
     select * from unnest($1::text[], $2::inet[], $3::text[], $4::int[]) order by 1, 2, 3, 4
     on conflict do nothing`,
    args,
  );
  await client.query(
    `select 1 from route_current c
      where (c.worker, c.target, c.method, c.flow) in (select * from unnest($1::text[], $2::inet[], $3::text[], $4::int[]))
      order by c.worker, c.target, c.method, c.flow
        for update`,
    args,
  );
  // Read after the locks, in a statement of its own: its snapshot then includes the spans of whoever held a
  // lock before us (a join under FOR UPDATE would recheck the locked row but not the spans it points to).
  const { rows } = await client.query<{
    ord: string;
    span_id: string;
    path_id: string;
    first_seen_at: Date;
    last_seen_at: Date;
    first_result: string;
    last_result: string;
    hops: string[][];
    reached: boolean;
    silent_ttls: number[];
  }>(
    `select k.ord, s.id as span_id, s.path_id, s.first_seen_at, s.last_seen_at, s.first_result, s.last_result, p.hops, p.reached, p.silent_ttls
       from unnest($1::text[], $2::inet[], $3::text[], $4::int[]) with ordinality as k(worker, target, method, flow, ord)
       join route_current c using (worker, target, method, flow)
       join route_spans s on s.id = c.span_id
       join paths p on p.id = s.path_id`,
    args,
  );
  const out = new Array<Span | undefined>(keys.length);
  for (const r of rows) {
    out[int8(r.ord) - 1] = {
      id: int8(r.span_id),
      isNew: false,
      pathId: int8(r.path_id),
      hops: r.hops,
      reached: r.reached,
      silentTtls: r.silent_ttls,
      firstSeenAt: r.first_seen_at.getTime(),
      lastSeenAt: r.last_seen_at.getTime(),
      addedObservations: 0,
      firstResult: r.first_result,
      lastResult: r.last_result,
    };
  }
  return out;
}

async function writeSpans(
  client: PoolClient,
  keys: RouteKey[],
  current: Array<Span | undefined>,
  touched: Span[],
  changes: Change[],
): Promise<void> {
  const created = touched.filter((s) => s.isNew);
  if (created.length > 0) {
    const { rows } = await client.query<{ id: string }>(
      `select nextval('route_spans_id_seq') as id from generate_series(1, $1)`,
      [created.length],
    );
    created.forEach((s, i) => (s.id = int8(rows[i]!.id)));
  }
  const keyOfSpan = new Map<Span, RouteKey>();
  for (const c of changes) keyOfSpan.set(c.after, c.key).set(c.before, c.key);
  current.forEach((s, i) => s && !keyOfSpan.has(s) && keyOfSpan.set(s, keys[i]!));
  const iso = (ms: number) => new Date(ms).toISOString();

  if (created.length > 0) {
    const k = created.map((s) => keyOfSpan.get(s)!);
    await client.query(
      `insert into route_spans (id, worker, target, method, flow, path_id, first_seen_at, last_seen_at, observations, first_result, last_result)
       select * from unnest($1::int8[], $2::text[], $3::inet[], $4::text[], $5::int[], $6::int8[], $7::timestamptz[], $8::timestamptz[], $9::int8[], $10::uuid[], $11::uuid[])`,
      [
        created.map((s) => s.id),
        ...keyArrays(k),
        created.map((s) => s.pathId),
        created.map((s) => iso(s.firstSeenAt)),
        created.map((s) => iso(s.lastSeenAt)),
        created.map((s) => s.addedObservations),
        created.map((s) => s.firstResult),
        created.map((s) => s.lastResult),
      ],
    );
  }
  const extended = touched.filter((s) => !s.isNew);
  if (extended.length > 0) {
    await client.query(
      `update route_spans s set path_id = u.path_id, last_seen_at = u.last_seen_at, observations = s.observations + u.added, last_result = u.last_result
         from unnest($1::int8[], $2::int8[], $3::timestamptz[], $4::int8[], $5::uuid[]) as u(id, path_id, last_seen_at, added, last_result)
        where s.id = u.id`,
      [
        extended.map((s) => s.id),
        extended.map((s) => s.pathId),
        extended.map((s) => iso(s.lastSeenAt)),
        extended.map((s) => s.addedObservations),
        extended.map((s) => s.lastResult),
      ],
    );
  }
  if (changes.length > 0) {
    await client.query(
      `insert into route_changes (worker, target, method, flow, before_span_id, after_span_id, before_path_id, after_path_id, diverge_ttl, before_last_seen_at, after_first_seen_at, result_id)
       select * from unnest($1::text[], $2::inet[], $3::text[], $4::int[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int[], $10::timestamptz[], $11::timestamptz[], $12::uuid[])`,
      [
        ...keyArrays(changes.map((c) => c.key)),
        changes.map((c) => c.before.id),
        changes.map((c) => c.after.id),
        changes.map((c) => c.before.pathId),
        changes.map((c) => c.after.pathId),
        changes.map((c) => c.divergeTtl),
        changes.map((c) => iso(c.before.lastSeenAt)),
        changes.map((c) => iso(c.after.firstSeenAt)),
        changes.map((c) => c.resultId),
      ],
    );
  }
  const moved = keys.map((k, i) => ({ k, span: current[i]! })).filter((x) => x.span.isNew);
  if (moved.length > 0) {
    await client.query(
      `update route_current c set span_id = u.span_id
         from unnest($1::text[], $2::inet[], $3::text[], $4::int[], $5::int8[]) as u(worker, target, method, flow, span_id)
        where (c.worker, c.target, c.method, c.flow) = (u.worker, u.target, u.method, u.flow)`,
      [...keyArrays(moved.map((m) => m.k)), moved.map((m) => m.span.id)],
    );
  }
}
