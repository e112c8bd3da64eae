import type { Pool } from '../db/create-pool.js';
import { int8 } from '../db/int8.js';
import type * as schema from '../db/schema/targets.js';
import type { TableRow } from '../db/table-row.js';

/** The rows below, as /status shows them: int8 columns stay strings there, as node-postgres gives them. */
interface PoolRow {
  effective_blocks: number;
  active_blocks: number;
  removed_blocks: number;
  ipv4_addresses: string;
  ipv6_positions: string;
  sources: number;
}
type ConsumerRow = Pick<
  TableRow<typeof schema.consumers>,
  | 'id'
  | 'pass'
  | 'pass_started_at'
  | 'cooldown_until'
  | 'served_in_pass'
  | 'served_total'
  | 'last_seen_at'
  | 'ring_done'
> & { open_blocks: number; set_aside_in_pass: number };

/**
 * What /status shows: the pool, each consumer's progress through its pass, outstanding leases, and the
 * targets set aside in the consumers' current passes (re-issued too often without an acknowledgement).
 */
export async function targetStatus(pool: Pool): Promise<unknown> {
  const [blocks, hops, consumers, leases] = await Promise.all([
    pool.query<PoolRow>(
      `select count(*) filter (where effective)::int as effective_blocks, count(*) filter (where active)::int as active_blocks,
              count(*) filter (where not active)::int as removed_blocks,
              coalesce(sum(walk_size) filter (where effective and family = 4), 0)::bigint as ipv4_addresses,
              coalesce(sum(walk_size) filter (where effective and family = 6), 0)::bigint as ipv6_positions,
              (select count(*) from target_sources)::int as sources
         from target_blocks`,
    ),
    pool.query<{ hops: number; newest_hop_at: Date | null }>(
      `select count(*)::int as hops, max(first_seen_at) as newest_hop_at from hops`,
    ),
    pool.query<ConsumerRow>(
      `select c.id, c.pass, c.pass_started_at, c.cooldown_until, c.served_in_pass, c.served_total, c.last_seen_at,
              c.ring_done, (select count(*) from consumer_blocks cb where cb.consumer_id = c.id)::int as open_blocks,
              (select count(*) from set_aside_targets s where s.consumer_id = c.id and s.pass = c.pass)::int as set_aside_in_pass
         from consumers c order by c.id`,
    ),
    pool.query<{ open: number; expired_unacked: number; open_targets: number }>(
      `select count(*) filter (where expires_at >= now())::int as open, count(*) filter (where expires_at < now())::int as expired_unacked,
              coalesce(sum(cardinality(targets) - cardinality(acked)) filter (where expires_at >= now()), 0)::int as open_targets
         from leases where state = 'open'`,
    ),
  ]);
  const pool_ = { ...blocks.rows[0]!, ...hops.rows[0]! };
  const poolSize = int8(pool_.ipv4_addresses) + pool_.hops;
  return {
    pool: pool_,
    consumers: consumers.rows.map((c) => ({
      ...c,
      state: c.cooldown_until ? 'cooldown' : 'walking',
      progress: poolSize > 0 ? Math.min(1, int8(c.served_in_pass) / poolSize) : 0,
    })),
    leases: {
      ...leases.rows[0],
      set_aside_in_pass: consumers.rows.reduce((sum, c) => sum + c.set_aside_in_pass, 0),
    },
  };
}
