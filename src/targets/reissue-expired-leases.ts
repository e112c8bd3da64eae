import type { PoolClient } from '../db/create-pool.js';

interface ExpiredLease {
  id: string;
  pass: number;
  targets: string[];
  acked: string[];
  reissues: number[] | null;
}

export interface Reissued {
  targets: string[];
  /** For each of `targets`, how many times it has now been re-issued (the new lease's `reissues`). */
  reissues: number[];
  leaseIds: string[];
  /** Targets re-issued more than `maxReissues` times, set aside for the rest of their pass instead. */
  setAside: number;
}

/**
 * Takes the consumer's expired leases, oldest first, and returns their unacknowledged targets (at most
 * `room`, but never splitting a lease unless it alone is larger). SKIP LOCKED: a lease another instance is
 * re-serving right now is left to it, so no expired lease is ever served twice.
 *
 * A target already re-issued `maxReissues` times is not served again in its pass but set aside: without
 * this, a consumer that never acknowledges (a broken output path, a target that crashes its worker) was
 * served the same 50 addresses every TTL for ever, 900 served and 230 distinct in one pass. The count
 * rides on the lease as `reissues`, parallel to `targets`, so this costs one more column read and no
 * per-target query; the insert into set_aside_targets only runs when something is set aside.
 */
export async function reissueExpiredLeases(
  client: PoolClient,
  consumerId: string,
  room: number,
  maxReissues: number,
): Promise<Reissued> {
  const { rows } = await client.query<ExpiredLease>(
    `select id, pass, array(select host(t) from unnest(targets) t) as targets, array(select host(a) from unnest(acked) a) as acked, reissues
       from leases where consumer_id = $1 and state = 'open' and expires_at < now()
      order by expires_at limit 50 for update skip locked`,
    [consumerId],
  );
  const out: Reissued = { targets: [], reissues: [], leaseIds: [], setAside: 0 };
  const done: string[] = [];
  const setAsideLeases: string[] = [];
  const setAside = { passes: [] as number[], addresses: [] as string[] };
  for (const lease of rows) {
    const acked = new Set(lease.acked);
    const again: Array<{ target: string; count: number }> = [];
    const aside: string[] = [];
    lease.targets.forEach((target, i) => {
      if (acked.has(target)) return;
      const count = (lease.reissues?.[i] ?? 0) + 1;
      if (count > maxReissues) aside.push(target);
      else again.push({ target, count });
    });
    if (again.length > 0 && out.targets.length > 0 && out.targets.length + again.length > room) break;
    for (const target of aside) {
      setAside.passes.push(lease.pass);
      setAside.addresses.push(target);
    }
    if (again.length > 0) {
      out.targets.push(...again.map((a) => a.target));
      out.reissues.push(...again.map((a) => a.count));
      out.leaseIds.push(lease.id);
    } else if (aside.length > 0) setAsideLeases.push(lease.id);
    else done.push(lease.id);
  }
  if (done.length > 0)
    await client.query(`update leases set state = 'done', closed_at = now() where id = any($1::uuid[])`, [done]);
  if (setAsideLeases.length > 0)
    await client.query(`update leases set state = 'set_aside', closed_at = now() where id = any($1::uuid[])`, [
      setAsideLeases,
    ]);
  if (out.leaseIds.length > 0)
    await client.query(`update leases set state = 'reissued', closed_at = now() where id = any($1::uuid[])`, [
      out.leaseIds,
    ]);
  if (setAside.addresses.length > 0) {
    // ON CONFLICT: an address set aside twice in one pass (say, after an import) is counted once, here and on /status alike.
    const inserted = await client.query(
      `insert into set_aside_targets (consumer_id, pass, address)
       select $1, p, a from unnest($2::int[], $3::inet[]) as t(p, a)
       on conflict do nothing`,
      [consumerId, setAside.passes, setAside.addresses],
    );
    out.setAside = inserted.rowCount ?? 0;
  }
  return out;
}
