import type { Pool, PoolClient } from '../db/create-pool.js';
import { parseAddress } from '../net/ip-address.js';

export interface LeaseAck {
  lease: string;
  target: string;
}

/**
 * Records that results for these targets were stored (called by the output service in the same
 * transaction as the results). A lease whose every target is acknowledged is closed as done.
 * Unknown leases and targets are ignored: a late or foreign ack must never fail an ingest.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function ackLeaseTargets(db: Pool | PoolClient, all: LeaseAck[]): Promise<number> {
  const acks = all.filter((a) => UUID.test(a.lease) && parseAddress(a.target) !== null);
  if (acks.length === 0) return 0;
  const { rowCount } = await db.query(
    `with x as (
       select lease::uuid as id, array_agg(distinct target::inet) as addrs
         from unnest($1::text[], $2::text[]) as t(lease, target) group by lease)
     -- Computed from l in SET, not in a CTE: a concurrent batch acking the same lease makes this UPDATE
     -- re-read the row it committed, so neither batch's acks are lost (a CTE would keep the stale acked).
     update leases l set acked = (select coalesce(array_agg(distinct a), '{}') from unnest(l.acked || x.addrs) a where a = any(l.targets)),
            state = case when l.state = 'open' and l.targets <@ (l.acked || x.addrs) then 'done' else l.state end,
            closed_at = case when l.state = 'open' and l.targets <@ (l.acked || x.addrs) then now() else l.closed_at end
       from x where l.id = x.id`,
    [acks.map((a) => a.lease), acks.map((a) => a.target)],
  );
  return rowCount ?? 0;
}
