import type { Pool, PoolClient } from '../../db/create-pool.js';

/**
 * The loaded range data as one string (`@ip-location-db/asn@2.3.… @ip-location-db/dbip-country@2.3.… local-ranges@<hash>`,
 * the last while ranges are declared: local-ranges.ts), or null.
 */
export async function currentDataVersion(db: Pool | PoolClient): Promise<string | null> {
  const { rows } = await db.query<{ v: string | null }>(
    `select string_agg(package || '@' || version, ' ' order by source) as v from enrichment_sources`,
  );
  return rows[0]?.v ?? null;
}
