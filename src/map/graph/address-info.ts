import type { Pool } from '../../db/create-pool.js';
import { int8 } from '../../db/int8.js';
import type { addressInfo } from '../../db/schema/enrichment.js';
import type { TableRow } from '../../db/table-row.js';

/** What hop enrichment (src/map/enrich) knows of an address. */
export interface AddressDetails {
  asn: number | null;
  as_org: string | null;
  country: string | null;
}

/** AS and country of each of `addresses` that enrichment has seen (migration 0009 makes the table). */
export async function addressDetails(pool: Pool, addresses: string[]): Promise<Map<string, AddressDetails>> {
  const out = new Map<string, AddressDetails>();
  if (addresses.length === 0) return out;
  const { rows } = await pool.query<Pick<TableRow<typeof addressInfo>, 'address' | 'asn' | 'as_org' | 'country'>>(
    `select host(address) as address, asn, as_org, country from address_info where address = any($1::inet[])`,
    [addresses],
  );
  for (const r of rows) out.set(r.address, { asn: int8(r.asn), as_org: r.as_org, country: r.country });
  return out;
}

/** The AS of each address that has one: what the graph and path answers carry. */
export async function asOfAddresses(
  pool: Pool,
  addresses: string[],
): Promise<Map<string, { asn: number; as_org: string | null }>> {
  const out = new Map<string, { asn: number; as_org: string | null }>();
  for (const [address, d] of await addressDetails(pool, addresses))
    if (d.asn !== null) out.set(address, { asn: d.asn, as_org: d.as_org });
  return out;
}
