import type { Response } from 'express';
import { writeWithBackpressure } from '../../http/write-with-backpressure.js';
import type { Pool } from '../../db/create-pool.js';
import { DATA_ATTRIBUTION, DATA_CREDIT_TEXT } from '../enrich/data-credit.js';
import type { GraphFilter } from '../graph/graph-filter.js';
import { graphmlEdge, graphmlHead, graphmlNode, graphmlTail, type GraphmlKey } from '../graph/graphml.js';
import type { LinkCursor } from '../graph/interface-graph.js';
import { routerLinksPage, routersOfLinks } from '../graph/router-graph.js';
import { encodeLinkCursor, MAX_GRAPH_PAGE } from './map-query-schemas.js';

const routerKeys: GraphmlKey[] = [
  { id: 'interfaces', for: 'node', type: 'string' },
  { id: 'interface_count', for: 'node', type: 'long' },
  { id: 'asn', for: 'node', type: 'long' },
  { id: 'as_org', for: 'node', type: 'string' },
  { id: 'links', for: 'edge', type: 'long' },
  { id: 'first_seen_at', for: 'edge', type: 'string' },
  { id: 'last_seen_at', for: 'edge', type: 'string' },
  { id: 'count', for: 'edge', type: 'long' },
  { id: 'delta_min_us', for: 'edge', type: 'double' },
  { id: 'delta_max_us', for: 'edge', type: 'double' },
  { id: 'delta_mean_us', for: 'edge', type: 'double' },
];

/**
 * GET /api/map/graph?level=router: a keyset page of router links with their routers as JSON (cursor and
 * `next` as at the interface level, router ids in place of addresses), or the whole router graph as
 * GraphML walked page by page, each router written once before its first edge.
 */
export async function routerGraphResponse(
  pool: Pool,
  res: Response,
  f: GraphFilter,
  q: { format: string; limit: number; cursor?: LinkCursor | undefined },
): Promise<void> {
  if (q.format === 'json') {
    const links = await routerLinksPage(pool, f, q.limit, q.cursor);
    const nodes = await routersOfLinks(pool, links);
    return void res.json({
      level: 'router',
      nodes,
      links,
      next: links.length === q.limit ? encodeLinkCursor(links.at(-1)!) : null,
      attribution: DATA_ATTRIBUTION,
    });
  }
  res.type('application/graphml+xml').setHeader('content-disposition', 'attachment; filename="hopmap-routers.graphml"');
  await writeWithBackpressure(res, graphmlHead(routerKeys, DATA_CREDIT_TEXT));
  const written = new Set<string>();
  let after: LinkCursor | undefined;
  while (!res.destroyed) {
    const links = await routerLinksPage(pool, f, MAX_GRAPH_PAGE, after);
    let chunk = '';
    for (const n of await routersOfLinks(pool, links)) {
      if (written.has(n.id)) continue;
      written.add(n.id);
      chunk += graphmlNode(n.id, {
        interfaces: n.interfaces.join(' '),
        interface_count: n.interfaces.length,
        asn: n.asn,
        as_org: n.as_org,
      });
    }
    for (const { near, far, ...data } of links) chunk += graphmlEdge(near, far, data);
    await writeWithBackpressure(res, chunk);
    if (links.length < MAX_GRAPH_PAGE) break;
    after = links.at(-1)!;
  }
  res.end(graphmlTail);
}
