import type { Pool } from '../../db/create-pool.js';
import { serviceUnavailable } from '../../http/http-error.js';

/** What hop enrichment (src/map/enrich) knows of an address. */
export interface AddressAs {
  asn: number | null;
  as_org: string | null;
}

/** Whether hop enrichment's `address_info` table exists in this database yet. */
export async function hasAddressInfo(pool: Pool): Promise<boolean> {
  const { rows } = await pool.query<{ ok: boolean }>(`select to_regclass('address_info') is not null as ok`);
  return rows[0]!.ok;
}

/** A 503 naming why: AS-level answers need the table hop enrichment fills. */
export async function requireAddressInfo(pool: Pool, what: string): Promise<void> {
  if (!(await hasAddressInfo(pool))) throw serviceUnavailable(`${what} needs AS data (table address_info), and hop enrichment has not created it yet`);
}

/** The AS of each of `addresses` that enrichment has one for; an empty map when there is no `address_info`. */
export async function asOfAddresses(pool: Pool, addresses: string[]): Promise<Map<string, AddressAs>> {
  const out = new Map<string, AddressAs>();
  if (addresses.length === 0 || !(await hasAddressInfo(pool))) return out;
  const { rows } = await pool.query<{ address: string; asn: string | null; as_org: string | null }>(
    `select host(address) as address, asn, as_org from address_info where address = any($1::inet[]) and asn is not null`,
    [addresses],
  );
  for (const r of rows) out.set(r.address, { asn: r.asn === null ? null : Number(r.asn), as_org: r.as_org });
  return out;
}
