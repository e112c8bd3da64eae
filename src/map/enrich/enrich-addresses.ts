import type { Pool, PoolClient } from '../../db/create-pool.js';
import { currentDataVersion } from './data-version.js';
import { classifyAddresses, LOOKUP_SQL } from './lookup-addresses.js';

export interface EnrichResult {
  /** Rows inserted, or rewritten because they held an older data version. */
  written: number;
  /** Already enriched from the current data. */
  unchanged: number;
  dataVersion: string | null;
}

/**
 * Fills address_info for `addresses` (validated text, any order, repeats allowed) in one statement: look up, then
 * `insert … on conflict do update` only where the stored data version differs, so re-enriching a known hop writes
 * nothing. With no range data loaded, addresses still get their kind, with a null data version.
 */
export async function enrichAddresses(db: Pool | PoolClient, addresses: readonly string[]): Promise<EnrichResult> {
  const dataVersion = await currentDataVersion(db);
  const input = classifyAddresses(addresses);
  if (input.addresses.length === 0) return { written: 0, unchanged: 0, dataVersion };
  const { rowCount } = await db.query(
    `insert into address_info (address, kind, asn, as_org, country, source, data_version, updated_at)
     select address, kind, asn, as_org, country, source, $3, now() from (${LOOKUP_SQL}) as looked
     on conflict (address) do update set
       kind = excluded.kind, asn = excluded.asn, as_org = excluded.as_org, country = excluded.country, source = excluded.source,
       data_version = excluded.data_version, updated_at = excluded.updated_at
     where address_info.data_version is distinct from excluded.data_version`,
    [input.addresses, input.kinds, dataVersion],
  );
  const written = rowCount ?? 0;
  return { written, unchanged: input.addresses.length - written, dataVersion };
}
