import type { Pool } from '../../db/create-pool.js';
import { addressDetails } from './address-info.js';
import { linkFilterSql, type GraphFilter } from './graph-filter.js';
import type { LinkCursor } from './interface-graph.js';

export interface RouterLinkView {
  /** Router ids (each router's smallest interface address). */
  near: string;
  far: string;
  /** Interface links from `near` into `far`, their observations, and the RTT step across them. */
  links: number;
  count: number;
  first_seen_at: Date;
  last_seen_at: Date;
  delta_min_us: number;
  delta_max_us: number;
  delta_mean_us: number;
}

export interface RouterNodeView {
  id: string;
  /** Every interface of the router as the last resolution found them (just `id` for a router of one). */
  interfaces: string[];
  /** The AS most of its interfaces are in (border routers often carry a neighbour's addresses too: `asns`). */
  asn: number | null;
  as_org: string | null;
  asns: number[];
  /** Observations of the router's links on this page (in and out), and how many such links. */
  count: number;
  degree: number;
}

/**
 * One page of router links in (near, far) order after `after`: interface links grouped by the routers of
 * their ends (router_interfaces; an address with no row is a router of its own, id = itself), links inside
 * one router dropped. The cursor's near end bounds the index scan before grouping, so later pages aggregate
 * fewer links, but every page groups all that remain: unlike the interface level it is not a pure index walk
 * (1,000,000 links, 250,000 near ends in routers of 4: about 1 s for the first page of 10,000, docs/map-api.md).
 * A resolution committed between two pages may regroup links; each page is consistent in itself.
 */
export async function routerLinksPage(
  pool: Pool,
  f: GraphFilter,
  limit: number,
  after?: LinkCursor,
): Promise<RouterLinkView[]> {
  const params: unknown[] = [];
  const where = linkFilterSql(f, params);
  const outer = ['g.near <> g.far'];
  if (after) {
    const near = `$${params.push(after.near)}::inet`;
    // A router's id is its smallest address, so a router at or after the cursor has every near end there too:
    // `l.near >= cursor` is implied, and it is the condition the (near, far) index can range-scan.
    where.push(`l.near >= ${near}`, `coalesce(nr.router_id, l.near) >= ${near}`);
    outer.push(`(g.near, g.far) > (${near}, $${params.push(after.far)}::inet)`);
  }
  const { rows } = await pool.query<RouterLinkView>(
    `select host(g.near) as near, host(g.far) as far, g.links, g.count, g.first_seen_at, g.last_seen_at, g.delta_min_us, g.delta_max_us, g.delta_mean_us
       from (select coalesce(nr.router_id, l.near) as near, coalesce(fr.router_id, l.far) as far,
                    count(*)::int as links, sum(l.count)::float8 as count, min(l.first_seen_at) as first_seen_at, max(l.last_seen_at) as last_seen_at,
                    min(l.delta_min_us) as delta_min_us, max(l.delta_max_us) as delta_max_us, sum(l.delta_sum_us) / sum(l.count) as delta_mean_us
               from links l
               left join router_interfaces nr on nr.address = l.near
               left join router_interfaces fr on fr.address = l.far
              ${where.length ? `where ${where.join(' and ')}` : ''}
              group by 1, 2) g
      where ${outer.join(' and ')}
      order by g.near, g.far
      limit $${params.push(limit)}`,
    params,
  );
  return rows;
}

/** The routers at the ends of `links`, with all their interfaces and their AS. */
export async function routersOfLinks(pool: Pool, links: RouterLinkView[]): Promise<RouterNodeView[]> {
  const nodes = new Map<string, RouterNodeView>();
  for (const l of links) {
    for (const id of [l.near, l.far]) {
      const n =
        nodes.get(id) ??
        nodes.set(id, { id, interfaces: [id], asn: null, as_org: null, asns: [], count: 0, degree: 0 }).get(id)!;
      n.count += l.count;
      n.degree += 1;
    }
  }
  if (nodes.size === 0) return [];
  const { rows } = await pool.query<{ id: string; interfaces: string[] }>(
    `select host(router_id) as id, array_agg(host(address) order by address) as interfaces
       from router_interfaces where router_id = any($1::inet[]) group by router_id`,
    [[...nodes.keys()]],
  );
  for (const r of rows) nodes.get(r.id)!.interfaces = r.interfaces;
  const details = await addressDetails(
    pool,
    [...nodes.values()].flatMap((n) => n.interfaces),
  );
  for (const n of nodes.values()) {
    const votes = new Map<number, { count: number; org: string | null }>();
    for (const a of n.interfaces) {
      const d = details.get(a);
      if (d?.asn == null) continue;
      const v = votes.get(d.asn) ?? votes.set(d.asn, { count: 0, org: d.as_org }).get(d.asn)!;
      v.count++;
    }
    const ranked = [...votes.entries()].sort((x, y) => y[1].count - x[1].count || x[0] - y[0]);
    n.asns = ranked.map(([asn]) => asn).sort((x, y) => x - y);
    if (ranked[0]) [n.asn, n.as_org] = [ranked[0][0], ranked[0][1].org];
  }
  return [...nodes.values()];
}
