import type { PoolClient } from '../db/create-pool.js';

interface ExpiredLease {
  id: string;
  targets: string[];
  acked: string[];
}

/**
 * Takes the consumer's expired leases, oldest first, and returns their unacknowledged targets (at most
 * `room`, but never splitting a lease unless it alone is larger). SKIP LOCKED: a lease another instance is
 * re-serving right now is left to it, so no expired lease is ever served twice.
 */
export async function reissueExpiredLeases(client: PoolClient, consumerId: string, room: number): Promise<{ targets: string[]; leaseIds: string[] }> {
  const { rows } = await client.query<ExpiredLease>(
    `select id, array(select host(t) from unnest(targets) t) as targets, array(select host(a) from unnest(acked) a) as acked
       from leases where consumer_id = $1 and state = 'open' and expires_at < now()
      order by expires_at limit 50 for update skip locked`,
    [consumerId],
  );
  const targets: string[] = [];
  const reissued: string[] = [];
  const done: string[] = [];
  for (const lease of rows) {
    const acked = new Set(lease.acked);
    const open = lease.targets.filter((t) => !acked.has(t));
    if (open.length === 0) {
      done.push(lease.id);
      continue;
    }
    if (targets.length > 0 && targets.length + open.length > room) break;
    targets.push(...open);
    reissued.push(lease.id);
  }
  if (done.length > 0) await client.query(`update leases set state = 'done', closed_at = now() where id = any($1::uuid[])`, [done]);
  if (reissued.length > 0) await client.query(`update leases set state = 'reissued', closed_at = now() where id = any($1::uuid[])`, [reissued]);
  return { targets, leaseIds: reissued };
}
