import type { Pool } from '../../db/create-pool.js';
import { int8 } from '../../db/int8.js';

/** The hop addresses enrichment placed in one country, and the AS most of them are in. */
export interface CountryHops {
  country: string;
  hops: number;
  dominant_asn: number | null;
  dominant_as_org: string | null;
  /** Hops in the dominant AS. */
  dominant_hops: number;
}

/** Links between two countries, both directions together. */
export interface CountryLink {
  a: string;
  b: string;
  links: number;
  count: number;
}

/**
 * Hop addresses per country and AS: one scan of `address_info` grouped by (country, asn); the dominant AS is
 * picked here rather than in SQL (a window over a few thousand groups).
 */
export async function hopsByCountry(pool: Pool): Promise<{ countries: CountryHops[]; unplaced: number }> {
  const { rows } = await pool.query<{ country: string | null; asn: string | null; as_org: string | null; n: number }>(
    `select country, asn, max(as_org) as as_org, count(*)::int as n from address_info group by country, asn`,
  );
  const byCountry = new Map<string, CountryHops>();
  let unplaced = 0;
  for (const r of rows) {
    if (r.country === null) {
      unplaced += r.n;
      continue;
    }
    let c = byCountry.get(r.country);
    if (!c)
      byCountry.set(
        r.country,
        (c = { country: r.country, hops: 0, dominant_asn: null, dominant_as_org: null, dominant_hops: 0 }),
      );
    c.hops += r.n;
    if (r.asn !== null && r.n > c.dominant_hops)
      Object.assign(c, { dominant_asn: int8(r.asn), dominant_as_org: r.as_org, dominant_hops: r.n });
  }
  return {
    countries: [...byCountry.values()].sort((x, y) => y.hops - x.hops || x.country.localeCompare(y.country)),
    unplaced,
  };
}

/**
 * The `limit` most crossed country pairs: links whose ends enrichment placed in two different countries. Two hash
 * joins of every link with `address_info` and a group by, like the AS graph (about 2-3 s per 1,000,000 links,
 * docs/map-api.md).
 */
export async function linksBetweenCountries(pool: Pool, limit: number): Promise<CountryLink[]> {
  const { rows } = await pool.query<{ a: string; b: string; links: number; count: number }>(
    `select least(na.country, fa.country) as a, greatest(na.country, fa.country) as b, count(*)::int as links, sum(l.count)::float8 as count
       from links l
       join address_info na on na.address = l.near
       join address_info fa on fa.address = l.far
      where na.country <> fa.country
      group by 1, 2
      order by count desc, a, b
      limit $1`,
    [limit],
  );
  return rows;
}
