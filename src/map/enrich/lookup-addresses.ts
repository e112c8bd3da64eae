import type { Pool, PoolClient } from '../../db/create-pool.js';
import { int8 } from '../../db/int8.js';
import { formatAddress, parseAddress } from '../../net/ip-address.js';
import { addressKind, type AddressKind } from './address-kind.js';

export interface AddressInfo {
  address: string;
  kind: AddressKind;
  asn: number | null;
  asOrg: string | null;
  country: string | null;
}

/** Canonical text and kind of each address, de-duplicated; throws on text that is not an address. */
export function classifyAddresses(addresses: readonly string[]): { addresses: string[]; kinds: AddressKind[] } {
  const seen = new Map<string, AddressKind>();
  for (const text of addresses) {
    const a = parseAddress(text);
    if (!a) throw new Error(`not an IPv4 or IPv6 address: "${text}"`);
    seen.set(formatAddress(a), addressKind(a));
  }
  return { addresses: [...seen.keys()], kinds: [...seen.values()] };
}

/**
 * The AS and country of each `$1` address: from the most specific operator-declared range holding it, else, for a
 * `$2` kind of public, from the public data. Declared ranges (any kind of address) may nest, so each address probes
 * local_ranges' primary key for its own network at each prefix length in use, longest first (lab: 3 lengths; 10,000
 * addresses against 10,001 nested ranges of 2 lengths: ~0.2 s, where a GiST `>>=` probe took 1.5 s). The public data
 * is disjoint: per address, the last range starting at or before it (a backward scan of the primary key, one index
 * probe), kept only if it also ends at or after it, since the data has gaps. Two backward index probes per address
 * (~0.01 ms each): 10,000 addresses in ~0.3 s warm, plan and figures in docs/enrichment.md. Other special addresses
 * never reach the public range tables. A declared range without a country keeps the public data's; `source` says
 * which data gave the AS.
 */
export const LOOKUP_SQL = `
  select i.address, i.kind,
         case when d.asn is not null then d.asn else a.asn end as asn,
         case when d.asn is not null then d.org else a.org end as as_org,
         coalesce(d.country, c.country) as country,
         case when d.asn is not null then 'declared' when a.asn is not null or c.country is not null then 'ip-location-db' end as source
  from unnest($1::inet[], $2::text[]) with ordinality as i(address, kind, ord)
  cross join (select array_agg(distinct masklen(prefix)) as lens from local_ranges) as declared
  left join lateral (
    select r.asn, r.org, r.country
    from unnest(declared.lens) as l(len)
    join local_ranges r on r.prefix = set_masklen(i.address::cidr, l.len)
    where l.len <= case family(i.address) when 4 then 32 else 128 end
    order by l.len desc limit 1) d on true
  left join lateral (
    select r.asn, r.org, r.last from asn_ranges r
    where i.kind = 'public' and r.first <= i.address order by r.first desc limit 1) a on a.last >= i.address
  left join lateral (
    select r.country, r.last from country_ranges r
    where i.kind = 'public' and r.first <= i.address order by r.first desc limit 1) c on c.last >= i.address`;

/** Looks addresses up without storing anything (`hopmap enrich lookup`). Results follow the input order, once each. */
export async function lookupAddresses(db: Pool | PoolClient, addresses: readonly string[]): Promise<AddressInfo[]> {
  const input = classifyAddresses(addresses);
  const { rows } = await db.query<{
    address: string;
    kind: AddressKind;
    asn: string | null;
    as_org: string | null;
    country: string | null;
  }>(`${LOOKUP_SQL} order by i.ord`, [input.addresses, input.kinds]);
  return rows.map((r, i) => ({
    address: input.addresses[i]!,
    kind: r.kind,
    asn: int8(r.asn),
    asOrg: r.as_org,
    country: r.country,
  }));
}
