import type { Response, Router } from 'express';
import { writeWithBackpressure } from '../../http/write-with-backpressure.js';
import type { Pool } from '../../db/create-pool.js';
import { parseRequest } from '../../http/validate.js';
import { DATA_ATTRIBUTION, DATA_CREDIT_TEXT } from '../enrich/data-credit.js';
import { interfaceGeojson } from '../geo/geojson-stream.js';
import { asOfAddresses } from '../graph/address-info.js';
import { asGraph } from '../graph/as-graph.js';
import type { GraphFilter } from '../graph/graph-filter.js';
import { graphmlEdge, graphmlHead, graphmlNode, graphmlTail, type GraphmlKey } from '../graph/graphml.js';
import { interfaceLinksPage, nodesOfLinks, type LinkCursor } from '../graph/interface-graph.js';
import { encodeLinkCursor, graphQuery, MAX_GRAPH_PAGE } from './map-query-schemas.js';
import { routerGraphResponse } from './router-graph-response.js';

const edgeKeys: GraphmlKey[] = [
  { id: 'first_seen_at', for: 'edge', type: 'string' },
  { id: 'last_seen_at', for: 'edge', type: 'string' },
  { id: 'count', for: 'edge', type: 'long' },
];
const interfaceKeys: GraphmlKey[] = [
  { id: 'asn', for: 'node', type: 'long' },
  { id: 'as_org', for: 'node', type: 'string' },
  ...edgeKeys,
  { id: 'delta_min_us', for: 'edge', type: 'double' },
  { id: 'delta_max_us', for: 'edge', type: 'double' },
  { id: 'delta_mean_us', for: 'edge', type: 'double' },
];
const asKeys: GraphmlKey[] = [
  { id: 'as_org', for: 'node', type: 'string' },
  { id: 'internal_links', for: 'node', type: 'long' },
  { id: 'internal_count', for: 'node', type: 'long' },
  { id: 'links', for: 'edge', type: 'long' },
  ...edgeKeys,
  { id: 'delta_mean_us', for: 'edge', type: 'double' },
];

/**
 * The whole interface graph as GraphML, walked page by page with the JSON API's keyset (no transaction or
 * cursor held open for the length of a download). Each node is written once, before its first edge.
 */
async function streamInterfaceGraphml(pool: Pool, res: Response, f: GraphFilter): Promise<void> {
  res
    .type('application/graphml+xml')
    .setHeader('content-disposition', 'attachment; filename="hopmap-interfaces.graphml"');
  await writeWithBackpressure(res, graphmlHead(interfaceKeys, DATA_CREDIT_TEXT));
  const written = new Set<string>();
  let after: LinkCursor | undefined;
  while (!res.destroyed) {
    const links = await interfaceLinksPage(pool, f, MAX_GRAPH_PAGE, after);
    const ases = await asOfAddresses(
      pool,
      [...new Set(links.flatMap((l) => [l.near, l.far]))].filter((a) => !written.has(a)),
    );
    let chunk = '';
    for (const l of links) {
      for (const a of [l.near, l.far]) {
        if (written.has(a)) continue;
        written.add(a);
        chunk += graphmlNode(a, { asn: ases.get(a)?.asn, as_org: ases.get(a)?.as_org });
      }
      const { near, far, ...data } = l;
      chunk += graphmlEdge(near, far, data);
    }
    await writeWithBackpressure(res, chunk);
    if (links.length < MAX_GRAPH_PAGE) break;
    after = links.at(-1)!;
  }
  res.end(graphmlTail);
}

/** GET /api/map/graph: the interface graph a keyset page at a time, or the AS graph, as JSON or GraphML. */
export function graphRoutes(router: Router, deps: { pool: Pool }): void {
  router.get('/api/map/graph', async (req, res) => {
    const q = parseRequest(graphQuery, req.query, 'query');
    const f: GraphFilter = {
      since: q.since,
      until: q.until,
      asn: q.asn,
      targetPrefix: q.target_prefix,
      country: q.country,
      worker: q.worker,
    };

    if (q.level === 'as') {
      const g = await asGraph(deps.pool, f);
      if (q.format === 'json') return void res.json({ level: 'as', ...g, attribution: DATA_ATTRIBUTION });
      res.type('application/graphml+xml').setHeader('content-disposition', 'attachment; filename="hopmap-as.graphml"');
      await writeWithBackpressure(res, graphmlHead(asKeys, DATA_CREDIT_TEXT));
      for (const { asn, ...data } of g.nodes) await writeWithBackpressure(res, graphmlNode(`AS${asn}`, data));
      for (const { near_asn, far_asn, ...data } of g.links)
        await writeWithBackpressure(res, graphmlEdge(`AS${near_asn}`, `AS${far_asn}`, data));
      return void res.end(graphmlTail);
    }

    if (q.level === 'router') return routerGraphResponse(deps.pool, res, f, q);
    if (q.format === 'graphml') return streamInterfaceGraphml(deps.pool, res, f);
    if (q.format === 'geojson') {
      res
        .type('application/geo+json')
        .setHeader('content-disposition', 'attachment; filename="hopmap-interfaces.geojson"');
      for await (const chunk of interfaceGeojson(deps.pool, f, MAX_GRAPH_PAGE)) {
        if (res.destroyed) break;
        await writeWithBackpressure(res, chunk);
      }
      return void res.end();
    }
    const links = await interfaceLinksPage(deps.pool, f, q.limit, q.cursor);
    const nodes = nodesOfLinks(links);
    const ases = await asOfAddresses(
      deps.pool,
      nodes.map((n) => n.address),
    );
    res.json({
      level: 'interface',
      nodes: nodes.map((n) => ({
        ...n,
        asn: ases.get(n.address)?.asn ?? null,
        as_org: ases.get(n.address)?.as_org ?? null,
      })),
      links,
      next: links.length === q.limit ? encodeLinkCursor(links.at(-1)!) : null,
      attribution: DATA_ATTRIBUTION,
    });
  });
}
