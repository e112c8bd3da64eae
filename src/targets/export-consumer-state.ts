import type { Pool } from '../db/create-pool.js';
import { int8 } from '../db/int8.js';
import type * as schema from '../db/schema/targets.js';
import type { TableRow } from '../db/table-row.js';
import { EXPORT_FORMAT, type ConsumerState } from './consumer-state-format.js';

/** Multirange text `{[1,5),[9,12)}` → [[1,5],[9,12]]. */
export function parseMultirange(text: string): Array<[number, number]> {
  return [...text.matchAll(/\[(\d+),(\d+)\)/g)].map((m) => [int8(m[1]!), int8(m[2]!)]);
}

/** The index of the first id >= target in a sorted array. */
function lowerBound(ids: number[], target: number): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

type ConsumerRow = Pick<
  TableRow<typeof schema.consumers>,
  | 'id'
  | 'pass'
  | 'pass_started_at'
  | 'cooldown_until'
  | 'ring_start'
  | 'ring_cursor_key'
  | 'ring_cursor_cidr'
  | 'ring_wrapped'
  | 'ring_done'
  | 'hops_served'
  | 'last_prefix'
  | 'rr_slot'
  | 'served_in_pass'
  | 'served_total'
>;
type BlockRow = Pick<TableRow<typeof schema.consumerBlocks>, 'consumer_id' | 'position' | 'slot'> &
  Pick<TableRow<typeof schema.targetBlocks>, 'cidr'>;
/** Only open leases are exported (`where state = 'open'`). */
type LeaseRow = Pick<
  TableRow<typeof schema.leases>,
  'id' | 'consumer_id' | 'pass' | 'targets' | 'acked' | 'issued_at' | 'expires_at'
> & { state: 'open' };

/** Reads every consumer's state in one repeatable-read snapshot, so the export is consistent. */
export async function exportConsumerState(pool: Pool): Promise<ConsumerState> {
  const client = await pool.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    const hops = await client.query<Pick<TableRow<typeof schema.hops>, 'id' | 'address'>>(
      'select id, host(address) as address from hops order by id',
    );
    const ids = hops.rows.map((h) => int8(h.id));
    const consumers = await client.query<ConsumerRow>(
      `select id, pass, pass_started_at, cooldown_until, ring_start, ring_cursor_key, ring_cursor_cidr::text as ring_cursor_cidr,
              ring_wrapped, ring_done, hops_served::text as hops_served, last_prefix, rr_slot, served_in_pass, served_total
         from consumers order by id`,
    );
    const blocks = await client.query<BlockRow>(
      `select cb.consumer_id, b.cidr::text as cidr, cb.position, cb.slot from consumer_blocks cb join target_blocks b on b.id = cb.block_id order by cb.slot`,
    );
    const leases = await client.query<LeaseRow>(
      `select id, consumer_id, pass, state, array(select host(t) from unnest(targets) t) as targets,
              array(select host(a) from unnest(acked) a) as acked, issued_at, expires_at
         from leases where state = 'open' order by issued_at`,
    );
    await client.query('commit');
    return {
      format: EXPORT_FORMAT,
      exported_at: new Date().toISOString(),
      hops: hops.rows.map((h) => h.address),
      consumers: consumers.rows.map((c) => ({
        id: c.id,
        pass: c.pass,
        pass_started_at: c.pass_started_at.toISOString(),
        cooldown_until: c.cooldown_until?.toISOString() ?? null,
        ring: {
          start: c.ring_start,
          cursor_key: c.ring_cursor_key,
          cursor_cidr: c.ring_cursor_cidr,
          wrapped: c.ring_wrapped,
          done: c.ring_done,
        },
        hops_served: parseMultirange(c.hops_served)
          .map(([lo, hi]): [number, number] => [lowerBound(ids, lo), lowerBound(ids, hi)])
          .filter(([a, b]) => b > a),
        last_prefix: c.last_prefix,
        rr_slot: c.rr_slot,
        served_in_pass: int8(c.served_in_pass),
        served_total: int8(c.served_total),
        blocks: blocks.rows
          .filter((b) => b.consumer_id === c.id)
          .map((b) => ({ cidr: b.cidr, position: int8(b.position), slot: b.slot })),
        leases: leases.rows
          .filter((l) => l.consumer_id === c.id)
          .map((l) => ({
            id: l.id,
            pass: l.pass,
            state: l.state,
            targets: l.targets,
            acked: l.acked,
            issued_at: l.issued_at.toISOString(),
            expires_at: l.expires_at.toISOString(),
          })),
      })),
    };
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
