import type { PoolClient } from '../db/create-pool.js';

/**
 * A block is served only if it is active and not inside another active block (for equal CIDRs from two
 * files, the older row wins), so overlapping sources never hand out an address twice in a pass. Recomputed
 * after each import, where it is cheap (one GiST probe per block), rather than on every lease, where it is hot.
 */
export async function refreshEffectiveBlocks(client: PoolClient): Promise<number> {
  const { rowCount } = await client.query(
    `update target_blocks b set effective = x.effective
       from (select t.id, t.active and not exists (
                      select 1 from target_blocks o
                       where o.active and o.cidr >>= t.cidr and o.id <> t.id and (o.cidr <> t.cidr or o.id < t.id)) as effective
               from target_blocks t) x
      where x.id = b.id and b.effective is distinct from x.effective`,
  );
  return rowCount ?? 0;
}
