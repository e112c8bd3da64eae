import type { Pool } from '../../db/create-pool.js';
import { int8 } from '../../db/int8.js';
import type { asLinks } from '../../db/schema/as-graph.js';
import type { TableRow } from '../../db/table-row.js';
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

/** A row of as_links, or the same sums aggregated from links; `count` is summed as float8 (it feeds a mean). */
type AsPairRow = Omit<TableRow<typeof asLinks>, 'count'> & { count: number };

/**
 * The AS graph: interface links whose two ends have an AS in `address_info`, grouped by (near AS, far AS).
 * Links inside one AS become that AS's internal figures; the rest are directed AS adjacencies. Addresses
 * with no AS (private or reserved space outside a declared range: the address_info check allows no other AS there),
 * unannounced or not enriched yet are left out.
 * Not paginated: the result has a row per AS pair, far fewer than links. Read from `as_links` (kept by triggers,
 * migration 0013) unless a filter other than `asn` narrows the links or the table awaits a rebuild; then
 * aggregated from `links` directly, the same sums.
 */
export async function asGraph(pool: Pool, f: GraphFilter): Promise<{ nodes: AsNodeView[]; links: AsLinkView[] }> {
  const rows = (await canUseAsLinks(pool, f))
    ? await asPairsPrecomputed(pool, f.asn)
    : await asPairsAggregated(pool, f);
  return asGraphOfPairs(rows);
}

/** Only `asn` can be answered from the pair sums (a link with an end in the AS is a pair with that AS on a side). */
async function canUseAsLinks(pool: Pool, f: GraphFilter): Promise<boolean> {
  if (Object.entries(f).some(([k, v]) => v !== undefined && k !== 'asn')) return false;
  const { rows } = await pool.query<{ stale: boolean }>('select stale from as_links_state');
  return rows[0]?.stale === false;
}

// 4,000 AS pairs of 1,000,000 links: a scan of a few hundred KB instead of 2-3 s of joins (docs/performance.md).
async function asPairsPrecomputed(pool: Pool, asn: number | undefined): Promise<AsPairRow[]> {
  const { rows } = await pool.query<AsPairRow>(
    `select near_asn, far_asn, near_org, far_org, links, count::float8 as count, delta_sum_us, first_seen_at, last_seen_at
       from as_links
      where links > 0 ${asn === undefined ? '' : 'and (near_asn = $1 or far_asn = $1)'}
      order by near_asn, far_asn`,
    asn === undefined ? [] : [asn],
  );
  return rows;
}

/** The aggregate over all links (two hash joins on the primary key of address_info): 2-3 s at 1,000,000 links. */
export async function asPairsAggregated(pool: Pool, f: GraphFilter): Promise<AsPairRow[]> {
  const params: unknown[] = [];
  const where = ['na.asn is not null', 'fa.asn is not null', ...linkFilterSql(f, params)];
  const { rows } = await pool.query<AsPairRow>(
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
  return rows;
}

function asGraphOfPairs(rows: AsPairRow[]): { nodes: AsNodeView[]; links: AsLinkView[] } {
  const mean = (sum: number, count: number) => (count > 0 ? sum / count : null);
  const nodes = new Map<number, AsNodeView>();
  const node = (asn: number, org: string | null) => {
    let n = nodes.get(asn);
    if (!n)
      nodes.set(asn, (n = { asn, as_org: null, internal_links: 0, internal_count: 0, internal_delta_mean_us: null }));
    n.as_org ??= org;
    return n;
  };
  const links: AsLinkView[] = [];
  for (const r of rows) {
    const near = int8(r.near_asn);
    const far = int8(r.far_asn);
    node(near, r.near_org);
    node(far, r.far_org);
    if (near === far) {
      Object.assign(node(near, null), {
        internal_links: int8(r.links),
        internal_count: r.count,
        internal_delta_mean_us: mean(r.delta_sum_us, r.count),
      });
      continue;
    }
    links.push({
      near_asn: near,
      far_asn: far,
      links: int8(r.links),
      count: r.count,
      delta_mean_us: mean(r.delta_sum_us, r.count),
      first_seen_at: r.first_seen_at,
      last_seen_at: r.last_seen_at,
    });
  }
  return { nodes: [...nodes.values()], links };
}
