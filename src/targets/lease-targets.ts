import type { Pool, PoolClient } from '../db/create-pool.js';
import { inTransaction } from '../db/in-transaction.js';
import { int8 } from '../db/int8.js';
import type * as schema from '../db/schema/targets.js';
import type { TableRow } from '../db/table-row.js';
import { withRetry } from '../db/with-retry.js';
import { assembleBatch } from './assemble-batch.js';
import { ConsumerRing, walkKey, type RingCursor } from './consumer-ring.js';
import { hashInt32 } from '../net/hash32.js';
import { parseAddress, parseTarget, prefixKey } from '../net/ip-address.js';
import { reissueExpiredLeases } from './reissue-expired-leases.js';
import { BlockWalk, HopQueue, type HopCandidate } from './target-streams.js';
import type { TargetPolicy } from './target-policy.js';

export interface LeaseRequest {
  consumerId: string;
  n: number;
  leaseTtlMs: number;
  passCooldownMs: number;
  /** How many times an unacknowledged target is re-issued before it is set aside for the rest of its pass. */
  maxReissues: number;
}

export interface LeaseResult {
  lease: string | null;
  expiresAt: Date | null;
  targets: string[];
  pass: number;
  /** Targets of expired leases handed out again in this batch. */
  reissued: number;
  /** Targets set aside in this request (re-issued `maxReissues` times and still unacknowledged). */
  setAside: number;
  /** Set when nothing new is left until the pass cooldown ends. */
  retryAfterSeconds?: number;
}

type ConsumerRow = Pick<
  TableRow<typeof schema.consumers>,
  | 'pass'
  | 'cooldown_until'
  | 'ring_start'
  | 'ring_cursor_key'
  | 'ring_cursor_cidr'
  | 'ring_wrapped'
  | 'ring_done'
  | 'hops_served'
  | 'last_prefix'
  | 'rr_slot'
> & { exclusions_version: number | null };

const CONSUMER_COLUMNS = `pass, cooldown_until, ring_start, ring_cursor_key, ring_cursor_cidr::text as ring_cursor_cidr, ring_wrapped,
  ring_done, hops_served::text as hops_served, last_prefix, rr_slot,
  (select version from target_exclusions_version where id = 1)::int as exclusions_version`;

export const ringStartFor = (consumerId: string, pass: number): number => hashInt32(`${consumerId}#${pass}`);

/**
 * Hands one consumer its next batch in one transaction: first the unacknowledged targets of its expired
 * leases, then new targets from its pass over the pool. The consumer's row is locked, so concurrent
 * requests of one consumer at different instances are served one after the other and get disjoint targets.
 */
export function leaseTargets(pool: Pool, req: LeaseRequest, policy: TargetPolicy): Promise<LeaseResult> {
  return withRetry(() => inTransaction(pool, (client) => leaseInTransaction(client, req, policy)), { what: 'lease' });
}

async function leaseInTransaction(client: PoolClient, req: LeaseRequest, policy: TargetPolicy): Promise<LeaseResult> {
  const { consumerId } = req;
  // Upsert and lock in one round trip: ON CONFLICT DO UPDATE locks the row as FOR UPDATE would. The
  // do-not-probe list's version rides along, so checking it costs nothing.
  const { rows } = await client.query<ConsumerRow>(
    `insert into consumers (id, ring_start, hops_served) values ($1, $2, '{}')
     on conflict (id) do update set last_seen_at = now()
     returning ${CONSUMER_COLUMNS}`,
    [consumerId, ringStartFor(consumerId, 1)],
  );
  let consumer = rows[0]!;

  const reissued = await reissueExpiredLeases(client, consumerId, req.n, req.maxReissues);
  const targets = [...reissued.targets];
  const remaining = req.n - targets.length;

  let retryAfterSeconds: number | undefined;
  if (consumer.cooldown_until) {
    const waitMs = consumer.cooldown_until.getTime() - Date.now();
    if (waitMs > 0) retryAfterSeconds = Math.ceil(waitMs / 1000);
    else consumer = await startNextPass(client, consumerId, consumer.pass + 1);
  }

  if (remaining > 0 && retryAfterSeconds === undefined) {
    const fresh = await leaseFromPool(client, consumerId, consumer, remaining, req.passCooldownMs, policy);
    targets.push(...fresh.targets);
    if (fresh.exhausted && targets.length === reissued.targets.length)
      retryAfterSeconds = Math.ceil(req.passCooldownMs / 1000);
  } else if (remaining > 0) {
    // Between passes: the cooldown governs probing the same addresses again, not new ones. Hops fed back since
    // are served at once, so the map grows a generation per request rather than per pass.
    targets.push(...(await leaseNewHops(client, consumerId, consumer, remaining, policy)));
  }
  // A consumer told to wait comes back within a minute even in a long cooldown: that is how late a new hop can be.
  if (targets.length > reissued.targets.length) retryAfterSeconds = undefined;
  else if (retryAfterSeconds !== undefined) retryAfterSeconds = Math.min(retryAfterSeconds, NEW_HOPS_POLL_SECONDS);

  if (targets.length === 0) {
    return {
      lease: null,
      expiresAt: null,
      targets,
      pass: consumer.pass,
      reissued: 0,
      setAside: reissued.setAside,
      retryAfterSeconds,
    };
  }
  // Re-issued targets come first, so their counts are a prefix of `reissues`; a batch of only new targets stores null.
  const reissues =
    reissued.reissues.length > 0
      ? [...reissued.reissues, ...new Array<number>(targets.length - reissued.reissues.length).fill(0)]
      : null;
  const lease = await client.query<{ id: string; expires_at: Date }>(
    // clock_timestamp, not now(): leases of one consumer are ordered by when they were issued, not when their transaction began.
    `insert into leases (consumer_id, pass, targets, acked, issued_at, expires_at, reissued_from, reissues)
     values ($1, $2, $3::inet[], '{}', clock_timestamp(), clock_timestamp() + make_interval(secs => $4), $5, $6::smallint[]) returning id, expires_at`,
    [consumerId, consumer.pass, targets, req.leaseTtlMs / 1000, reissued.leaseIds[0] ?? null, reissues],
  );
  return {
    lease: lease.rows[0]!.id,
    expiresAt: lease.rows[0]!.expires_at,
    targets,
    pass: consumer.pass,
    reissued: reissued.targets.length,
    setAside: reissued.setAside,
  };
}

async function startNextPass(client: PoolClient, consumerId: string, pass: number): Promise<ConsumerRow> {
  await client.query('delete from consumer_blocks where consumer_id = $1', [consumerId]);
  const { rows } = await client.query<ConsumerRow>(
    `update consumers set pass = $2, pass_started_at = now(), cooldown_until = null, ring_start = $3, ring_cursor_key = null,
            ring_cursor_cidr = null, ring_wrapped = false, ring_done = false, hops_served = '{}', served_in_pass = 0
      where id = $1
      returning ${CONSUMER_COLUMNS}`,
    [consumerId, pass, ringStartFor(consumerId, pass)],
  );
  return rows[0]!;
}

/** The longest a consumer between passes is told to wait before it asks again for new hops. */
export const NEW_HOPS_POLL_SECONDS = 60;

/**
 * Hops this consumer has not had in its pass, for a consumer between passes: no walk moves and the cooldown
 * stands. The /24 rule holds as in a pass: a hop repeats the last /24 only when every hop left does.
 */
async function leaseNewHops(
  client: PoolClient,
  consumerId: string,
  consumer: ConsumerRow,
  want: number,
  policy: TargetPolicy,
): Promise<string[]> {
  const filter = await policy.addressFilter(client, consumer.exclusions_version ?? 0);
  const { hops, skippedHopIds, emptyGaps } = await unservedHops(
    client,
    consumer.hops_served,
    want,
    policy.families,
    filter.allowed,
  );
  if (hops.length === 0 && skippedHopIds.length === 0 && emptyGaps.length === 0) return [];
  const state = { walks: [], hops: new HopQueue(hops), rr: 0, lastPrefix: consumer.last_prefix };
  const batch = await assembleBatch(state, want, () => Promise.resolve(undefined));
  await client.query(
    `update consumers set
        hops_served = hops_served + coalesce((select range_agg(int8range(i, i + 1)) from unnest($2::bigint[]) i), '{}')
                                  + coalesce((select range_agg(int8range(lo, hi)) from unnest($5::bigint[], $6::bigint[]) as g(lo, hi)), '{}'),
        last_prefix = $3, served_in_pass = served_in_pass + $4, served_total = served_total + $4, last_seen_at = now()
      where id = $1`,
    [
      consumerId,
      [...batch.servedHops.map((h) => h.id), ...skippedHopIds],
      state.lastPrefix,
      batch.targets.length,
      emptyGaps.map((g) => g.lo),
      emptyGaps.map((g) => g.hi),
    ],
  );
  return batch.targets.map((t) => t.address);
}

type WalkRow = Pick<TableRow<typeof schema.consumerBlocks>, 'block_id' | 'position'> &
  Pick<TableRow<typeof schema.targetBlocks>, 'cidr' | 'walk_size'>;

async function leaseFromPool(
  client: PoolClient,
  consumerId: string,
  consumer: ConsumerRow,
  want: number,
  passCooldownMs: number,
  policy: TargetPolicy,
): Promise<{ targets: string[]; exhausted: boolean }> {
  const filter = await policy.addressFilter(client, consumer.exclusions_version ?? 0);
  const families = policy.families;

  const walkRows = await client.query<WalkRow>(
    `select cb.block_id, cb.position, b.cidr::text as cidr, b.walk_size
       from consumer_blocks cb join target_blocks b on b.id = cb.block_id
      where cb.consumer_id = $1 and b.effective and b.family = any($2::smallint[]) order by cb.slot`,
    [consumerId, families],
  );
  const walks = walkRows.rows.flatMap((r) => {
    const parsed = parseTarget(r.cidr);
    return parsed.ok
      ? [
          new BlockWalk(
            int8(r.block_id),
            parsed.block,
            int8(r.walk_size),
            walkKey(consumerId, r.cidr),
            int8(r.position),
            filter.allowed,
          ),
        ]
      : [];
  });

  const { hops, skippedHopIds, emptyGaps, sawAllHops } = await unservedHops(
    client,
    consumer.hops_served,
    want,
    families,
    filter.allowed,
  );
  const cursor: RingCursor = {
    start: consumer.ring_start,
    cursorKey: consumer.ring_cursor_key,
    cursorCidr: consumer.ring_cursor_cidr,
    wrapped: consumer.ring_wrapped,
    done: consumer.ring_done,
  };
  const ring = new ConsumerRing(client, consumerId, cursor, families, filter.allowed, filter.blockAllowed);
  const state = { walks, hops: new HopQueue(hops), rr: consumer.rr_slot, lastPrefix: consumer.last_prefix };
  const batch = await assembleBatch(state, want, () => ring.open());

  const servedIds = [...batch.servedHops.map((h) => h.id), ...skippedHopIds];
  const exhausted = batch.exhausted && cursor.done && sawAllHops;
  const open = state.walks.filter((w) => !w.done);
  // Upsert the open walks and drop the finished ones in one statement.
  await client.query(
    `with kept as (
       insert into consumer_blocks (consumer_id, block_id, position, slot)
       select $1, b, p, s from unnest($2::bigint[], $3::bigint[], $4::smallint[]) as t(b, p, s)
       on conflict (consumer_id, block_id) do update set position = excluded.position, slot = excluded.slot)
     delete from consumer_blocks where consumer_id = $1 and block_id <> all($2::bigint[])`,
    [consumerId, open.map((w) => w.blockId), open.map((w) => w.position), open.map((_, i) => i)],
  );
  await client.query(
    `update consumers set
        ring_cursor_key = $2, ring_cursor_cidr = $3::cidr, ring_wrapped = $4, ring_done = $5,
        hops_served = hops_served + coalesce((select range_agg(int8range(i, i + 1)) from unnest($6::bigint[]) i), '{}')
                                  + coalesce((select range_agg(int8range(lo, hi)) from unnest($12::bigint[], $13::bigint[]) as g(lo, hi)), '{}'),
        last_prefix = $7, rr_slot = $8, served_in_pass = served_in_pass + $9, served_total = served_total + $9,
        last_seen_at = now(), cooldown_until = case when $10 then now() + make_interval(secs => $11) end
      where id = $1`,
    [
      consumerId,
      cursor.cursorKey,
      cursor.cursorCidr,
      cursor.wrapped,
      cursor.done,
      servedIds,
      state.lastPrefix,
      state.rr,
      batch.targets.length,
      exhausted,
      passCooldownMs / 1000,
      emptyGaps.map((g) => g.lo),
      emptyGaps.map((g) => g.hi),
    ],
  );
  return { targets: batch.targets.map((t) => t.address), exhausted };
}

/** Gaps of unserved hop ids looked into per batch. */
const HOP_GAPS_PER_BATCH = 64;

type HopRow = Pick<TableRow<typeof schema.hops>, 'id' | 'address'> & { covered: boolean };

/**
 * Up to `want` hops this consumer has not had in this pass, freshest first. The served set is a multirange
 * of hop ids; its gaps below the newest id are what is left. Hops inside a loaded block, reserved or on the
 * do-not-probe list are returned as skipped so they are marked and never looked at again this pass.
 */
async function unservedHops(
  client: PoolClient,
  served: string,
  want: number,
  families: number[],
  allowed: (a: NonNullable<ReturnType<typeof parseAddress>>) => boolean,
): Promise<{
  hops: HopCandidate[];
  skippedHopIds: number[];
  emptyGaps: Array<{ lo: number; hi: number }>;
  sawAllHops: boolean;
}> {
  // Ids are not dense (an insert that lost ON CONFLICT still used one up), so some gaps hold no hop at all:
  // those are marked as served too, or they would hide older hops from every later batch of the pass.
  const gaps = await client.query<{ lo: string; hi: string }>(
    `select lower(g) as lo, upper(g) as hi
       from unnest(int8multirange(int8range(1, (select coalesce(max(id), 0) + 1 from hops))) - $1::int8multirange) g
      order by upper(g) desc limit $2`,
    [served, HOP_GAPS_PER_BATCH + 1],
  );
  const scanned = gaps.rows.slice(0, HOP_GAPS_PER_BATCH).map((g) => ({ lo: int8(g.lo), hi: int8(g.hi) }));
  const { rows } = await client.query<HopRow>(
    `select h.id, host(h.address) as address,
            (h.family <> all($4::smallint[]) or exists (select 1 from target_blocks b where b.active and b.effective and b.cidr >>= h.address)) as covered
       from unnest($1::bigint[], $2::bigint[]) as gaps(lo, hi),
            lateral (select * from hops where id >= gaps.lo and id < gaps.hi order by id desc limit $3) h
      order by h.id desc limit $3`,
    [scanned.map((g) => g.lo), scanned.map((g) => g.hi), want, families],
  );
  const hops: HopCandidate[] = [];
  const skippedHopIds: number[] = [];
  for (const row of rows) {
    const a = parseAddress(row.address);
    if (!a || row.covered || !allowed(a)) skippedHopIds.push(int8(row.id));
    else hops.push({ id: int8(row.id), address: row.address, prefix: prefixKey(a) });
  }
  const full = rows.length === want;
  const lowest = full ? int8(rows.at(-1)!.id) : 0;
  const ids = rows.map((r) => int8(r.id));
  const emptyGaps = scanned.filter((g) => g.lo > lowest && !ids.some((id) => id >= g.lo && id < g.hi));
  return { hops, skippedHopIds, emptyGaps, sawAllHops: !full && gaps.rows.length <= HOP_GAPS_PER_BATCH };
}
