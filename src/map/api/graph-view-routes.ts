import type { Router } from 'express';
import { z } from 'zod';
import type { Pool } from '../../db/create-pool.js';
import { parseRequest } from '../../http/validate.js';
import type { CompactGraph } from '../client/compact-graph.js';
import { DATA_ATTRIBUTION } from '../enrich/data-credit.js';
import { addressDetails } from '../graph/address-info.js';
import { linkFilterSql, type GraphFilter } from '../graph/graph-filter.js';
import { time } from './map-query-schemas.js';

/** The most links one answer carries: 100,000 nodes' worth with room, about 8 MB of JSON. */
export const MAX_VIEW_LINKS = 250_000;

const graphViewQuery = z.strictObject({
  since: time.optional(),
  asn: z.coerce.number({ error: 'expected an AS number' }).int().min(0).max(4_294_967_295).optional(),
  limit: z.coerce.number({ error: 'expected a number' }).int().min(1).max(MAX_VIEW_LINKS).default(MAX_VIEW_LINKS),
});

/**
 * The first `limit` links in (near, far) order as columns, with their ends' AS and country. One index-ordered
 * scan read as arrays (no row objects), then one lookup of every end in address_info; at 100,000 links the
 * answer takes about a second where the same graph in keyset pages is ten requests that repeat each address
 * on every page it touches (bench/cases/map-render.ts).
 */
export async function compactGraph(pool: Pool, f: GraphFilter, limit: number): Promise<CompactGraph> {
  const params: unknown[] = [];
  const where = linkFilterSql(f, params);
  const { rows } = await pool.query<[string, string, number, number, number, number]>({
    text: `select host(l.near), host(l.far), l.count::float8, round(l.delta_min_us), round(l.delta_sum_us / l.count), round(l.delta_max_us)
             from links l
            ${where.length ? `where ${where.join(' and ')}` : ''}
            order by l.near, l.far
            limit $${params.push(limit + 1)}`,
    values: params,
    rowMode: 'array',
  });
  const truncated = rows.length > limit;
  if (truncated) rows.pop();

  const g: CompactGraph = {
    nodes: [],
    nodeAs: [],
    nodeCountry: [],
    ases: [],
    countries: [],
    near: [],
    far: [],
    count: [],
    deltaMinUs: [],
    deltaMeanUs: [],
    deltaMaxUs: [],
    truncated,
  };
  const index = new Map<string, number>();
  const nodeOf = (address: string) => {
    let i = index.get(address);
    if (i === undefined) {
      index.set(address, (i = g.nodes.length));
      g.nodes.push(address);
    }
    return i;
  };
  for (const [near, far, count, min, mean, max] of rows) {
    g.near.push(nodeOf(near));
    g.far.push(nodeOf(far));
    g.count.push(count);
    g.deltaMinUs.push(min);
    g.deltaMeanUs.push(mean);
    g.deltaMaxUs.push(max);
  }

  const details = await addressDetails(pool, g.nodes);
  const asIndex = new Map<number, number>();
  const countryIndex = new Map<string, number>();
  for (const address of g.nodes) {
    const d = details.get(address);
    let as = -1;
    if (d?.asn != null) {
      as = asIndex.get(d.asn) ?? -1;
      if (as < 0) asIndex.set(d.asn, (as = g.ases.push({ asn: d.asn, org: d.as_org }) - 1));
    }
    let country = -1;
    if (d?.country) {
      country = countryIndex.get(d.country) ?? -1;
      if (country < 0) countryIndex.set(d.country, (country = g.countries.push(d.country) - 1));
    }
    g.nodeAs.push(as);
    g.nodeCountry.push(country);
  }
  return g;
}

/** GET /api/map/graph-view: the interface graph for the graph page in one compact answer (docs/map-views.md). */
export function graphViewRoutes(router: Router, deps: { pool: Pool }): void {
  router.get('/api/map/graph-view', async (req, res) => {
    const q = parseRequest(graphViewQuery, req.query, 'query');
    res.json({
      ...(await compactGraph(deps.pool, { since: q.since, asn: q.asn }, q.limit)),
      attribution: DATA_ATTRIBUTION,
    });
  });
}
