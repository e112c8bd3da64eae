import type { Pool } from '../../db/create-pool.js';
import { linkFilterSql, type GraphFilter } from './graph-filter.js';

export interface AsNodeView {
  asn: number;
  as_org: string | null;
  /** Links with both ends in this AS, and their observations and mean RTT step. */
  internal_links: number;
  internal_count: number;
  internal_delta_mean_us: number | null;
}

export interface AsLinkView {
  near_asn: number;
  far_asn: number;
  /** Interface links from `near_asn` into `far_asn`, their observations, and the mean RTT step across them. */
  links: number;
  count: number;
  delta_mean_us: number | null;
  first_seen_at: Date;
  last_seen_at: Date;
}

/**
 * The AS graph: interface links whose two ends have an AS in `address_info`, grouped by (near AS, far AS).
 * Links inside one AS become that AS's internal figures; the rest are directed AS adjacencies. Addresses
 * that are not public (private, shared, reserved: `kind`), unannounced (no `asn`) or not enriched yet are left out. One
 * aggregate over all links (hash joins on the primary key of address_info), not paginated: the result has a
 * row per AS pair, far fewer than links.
 */
export async function asGraph(pool: Pool, f: GraphFilter): Promise<{ nodes: AsNodeView[]; links: AsLinkView[] }> {
  const params: unknown[] = [];
  const where = [
    `na.kind = 'public'`, 'na.asn is not null', `fa.kind = 'public'`, 'fa.asn is not null',
    ...linkFilterSql(f, params),
  ];
  const { rows } = await pool.query<{ near_asn: string; far_asn: string; near_org: string | null; far_org: string | null; links: string; count: number; delta_sum_us: number; first_seen_at: Date; last_seen_at: Date }>(
    `select na.asn as near_asn, fa.asn as far_asn, max(na.as_org) as near_org, max(fa.as_org) as far_org, count(*) as links, sum(l.count)::float8 as count,
            sum(l.delta_sum_us) as delta_sum_us, min(l.first_seen_at) as first_seen_at, max(l.last_seen_at) as last_seen_at
       from links l
       join address_info na on na.address = l.near
       join address_info fa on fa.address = l.far
      where ${where.join(' and ')}
      group by na.asn, fa.asn
      order by na.asn, fa.asn`,
    params,
  );
  const mean = (sum: number, count: number) => (count > 0 ? sum / count : null);
  const nodes = new Map<number, AsNodeView>();
  const node = (asn: number, org: string | null) => {
    let n = nodes.get(asn);
    if (!n) nodes.set(asn, (n = { asn, as_org: null, internal_links: 0, internal_count: 0, internal_delta_mean_us: null }));
    n.as_org ??= org;
    return n;
  };
  const links: AsLinkView[] = [];
  for (const r of rows) {
    const near = Number(r.near_asn);
    const far = Number(r.far_asn);
    node(near, r.near_org);
    node(far, r.far_org);
    if (near === far) {
      Object.assign(node(near, null), { internal_links: Number(r.links), internal_count: r.count, internal_delta_mean_us: mean(r.delta_sum_us, r.count) });
      continue;
    }
    links.push({ near_asn: near, far_asn: far, links: Number(r.links), count: r.count, delta_mean_us: mean(r.delta_sum_us, r.count), first_seen_at: r.first_seen_at, last_seen_at: r.last_seen_at });
  }
  return { nodes: [...nodes.values()], links };
}
