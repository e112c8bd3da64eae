import { inTransaction } from '../db/in-transaction.js';
import type { Pool } from '../db/create-pool.js';
import { int8 } from '../db/int8.js';
import type { ConsumerState } from './consumer-state-format.js';

export interface ImportStateResult {
  consumers: number;
  created: number;
  hops: number;
  leases: number;
  /** Blocks named in the state that this database has not loaded; those walks start afresh. */
  unknownBlocks: string[];
}

/**
 * Restores exported consumer state (already validated) in one transaction: hops first, in their exported
 * order, then each consumer's pass, ring position, open walks and open leases. A consumer that does not
 * exist is created; one that does is replaced.
 */
export async function importConsumerState(pool: Pool, state: ConsumerState): Promise<ImportStateResult> {
  const result: ImportStateResult = {
    consumers: state.consumers.length,
    created: 0,
    hops: 0,
    leases: 0,
    unknownBlocks: [],
  };
  return inTransaction(pool, async (client) => {
    const inserted = await client.query(
      `insert into hops (address, family) select a::inet, family(a::inet) from unnest($1::text[]) with ordinality u(a, o) order by o on conflict (address) do nothing`,
      [state.hops],
    );
    result.hops = inserted.rowCount ?? 0;
    const hopIds = await client.query<{ address: string; id: string }>(
      'select host(address) as address, id from hops where address = any($1::inet[])',
      [state.hops],
    );
    const idOf = new Map(hopIds.rows.map((r) => [r.address, int8(r.id)]));

    for (const c of state.consumers) {
      const served = c.hops_served.flatMap(([a, b]) => state.hops.slice(a, b).map((h) => idOf.get(h)!));
      const upsert = await client.query<{ created: boolean }>(
        `insert into consumers (id, pass, pass_started_at, cooldown_until, ring_start, ring_cursor_key, ring_cursor_cidr, ring_wrapped, ring_done,
                                hops_served, last_prefix, rr_slot, served_in_pass, served_total)
         values ($1, $2, $3, $4, $5, $6, $7::cidr, $8, $9, coalesce((select range_agg(int8range(i, i + 1)) from unnest($10::bigint[]) i), '{}'), $11, $12, $13, $14)
         on conflict (id) do update set pass = excluded.pass, pass_started_at = excluded.pass_started_at, cooldown_until = excluded.cooldown_until,
           ring_start = excluded.ring_start, ring_cursor_key = excluded.ring_cursor_key, ring_cursor_cidr = excluded.ring_cursor_cidr,
           ring_wrapped = excluded.ring_wrapped, ring_done = excluded.ring_done, hops_served = excluded.hops_served, last_prefix = excluded.last_prefix,
           rr_slot = excluded.rr_slot, served_in_pass = excluded.served_in_pass, served_total = excluded.served_total
         returning (xmax = 0) as created`,
        [
          c.id,
          c.pass,
          c.pass_started_at,
          c.cooldown_until,
          c.ring.start,
          c.ring.cursor_key,
          c.ring.cursor_cidr,
          c.ring.wrapped,
          c.ring.done,
          served,
          c.last_prefix,
          c.rr_slot,
          c.served_in_pass,
          c.served_total,
        ],
      );
      if (upsert.rows[0]?.created) result.created++;

      await client.query('delete from consumer_blocks where consumer_id = $1', [c.id]);
      const blocks = await client.query<{ cidr: string; id: string }>(
        'select distinct on (cidr) cidr::text as cidr, id from target_blocks where effective and cidr = any($1::cidr[]) order by cidr, id',
        [c.blocks.map((b) => b.cidr)],
      );
      const blockId = new Map(blocks.rows.map((b) => [b.cidr, b.id]));
      const known = c.blocks.filter((b) => blockId.has(b.cidr));
      result.unknownBlocks.push(...c.blocks.filter((b) => !blockId.has(b.cidr)).map((b) => b.cidr));
      await client.query(
        `insert into consumer_blocks (consumer_id, block_id, position, slot) select $1, b, p, s from unnest($2::bigint[], $3::bigint[], $4::smallint[]) as t(b, p, s)`,
        [c.id, known.map((b) => blockId.get(b.cidr)), known.map((b) => b.position), known.map((b) => b.slot)],
      );

      for (const l of c.leases) {
        const lease = await client.query(
          `insert into leases (id, consumer_id, pass, state, targets, acked, issued_at, expires_at)
           values ($1, $2, $3, 'open', $4::inet[], $5::inet[], $6, $7) on conflict (id) do nothing`,
          [l.id, c.id, l.pass, l.targets, l.acked, l.issued_at, l.expires_at],
        );
        result.leases += lease.rowCount ?? 0;
      }
    }
    return result;
  });
}
