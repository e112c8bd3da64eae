import type { Pool, PoolClient } from '../db/create-pool.js';

export interface AddHopsResult {
  added: number;
  /** Already known hops, or repeated in the same call. */
  duplicate: number;
  /** Inside a loaded block, so already in every consumer's pool. */
  covered: number;
}

/**
 * Adds discovered hops to the global pool, once each: one statement, `unnest` + `ON CONFLICT DO NOTHING`
 * (measured here at ~245,000 hops/s for the plain form), skipping hops inside an effective block. Hops are
 * inserted in the order given, so later ones are fresher. Addresses must already be validated.
 */
export async function addHops(pool: Pool | PoolClient, addresses: string[]): Promise<AddHopsResult> {
  if (addresses.length === 0) return { added: 0, duplicate: 0, covered: 0 };
  const { rows } = await pool.query<{ added: number; covered: number }>(
    `with input as (
       select a::inet as a, min(ord) as ord from unnest($1::text[]) with ordinality as u(a, ord) group by 1),
     classified as (
       select a, ord, exists (select 1 from target_blocks b where b.active and b.effective and b.cidr >>= a) as covered from input),
     ins as (
       insert into hops (address, family)
       select a, family(a) from classified where not covered order by ord
       on conflict (address) do nothing returning 1)
     select (select count(*) from ins)::int as added, (select count(*) from classified where covered)::int as covered`,
    [addresses],
  );
  const { added, covered } = rows[0]!;
  return { added, covered, duplicate: addresses.length - added - covered };
}
