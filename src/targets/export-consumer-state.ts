import type { Pool } from '../db/create-pool.js';
import { EXPORT_FORMAT, type ConsumerState } from './consumer-state-format.js';

/** Multirange text `{[1,5),[9,12)}` → [[1,5],[9,12]]. */
export function parseMultirange(text: string): Array<[number, number]> {
  return [...text.matchAll(/\[(\d+),(\d+)\)/g)].map((m) => [Number(m[1]), Number(m[2])]);
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

/** Reads every consumer's state in one repeatable-read snapshot, so the export is consistent. */
export async function exportConsumerState(pool: Pool): Promise<ConsumerState> {
  const client = await pool.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    const hops = await client.query<{ id: string; address: string }>(
      'select id, host(address) as address from hops order by id',
    );
    const ids = hops.rows.map((h) => Number(h.id));
    const consumers = await client.query(
      `select id, pass, pass_started_at, cooldown_until, ring_start, ring_cursor_key, ring_cursor_cidr::text as ring_cursor_cidr,
              ring_wrapped, ring_done, hops_served::text as hops_served, last_prefix, rr_slot, served_in_pass, served_total
         from consumers order by id`,
    );
    const blocks = await client.query(
      `select cb.consumer_id, b.cidr::text as cidr, cb.position, cb.slot from consumer_blocks cb join target_blocks b on b.id = cb.block_id order by cb.slot`,
    );
    const leases = await client.query(
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
        served_in_pass: Number(c.served_in_pass),
        served_total: Number(c.served_total),
        blocks: blocks.rows
          .filter((b) => b.consumer_id === c.id)
          .map((b) => ({ cidr: b.cidr, position: Number(b.position), slot: b.slot })),
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
