import type { Router } from 'express';
import type { Pool } from '../../db/create-pool.js';
import { parseRequest } from '../../http/validate.js';
import { listRouteChanges, routePathsAt } from '../../results/route-history.js';
import { asOfAddresses } from '../graph/address-info.js';
import { changesQuery, pathQuery } from './map-query-schemas.js';

/** GET /api/map/path (a worker's routes to a target at a time, hops with their AS) and GET /api/map/changes. */
export function routeHistoryRoutes(router: Router, deps: { pool: Pool }): void {
  router.get('/api/map/path', async (req, res) => {
    const q = parseRequest(pathQuery, req.query, 'query');
    const at = q.at ?? new Date().toISOString();
    const spans = await routePathsAt(deps.pool, q.worker, q.target, at);
    const ases = await asOfAddresses(deps.pool, [...new Set(spans.flatMap((s) => s.hops.flat()))]);
    const routes = spans.map((s) => ({
      ...s,
      hops: s.hops.map((addresses, i) => ({
        ttl: i + 1,
        addresses: addresses.map((address) => ({
          address,
          asn: ases.get(address)?.asn ?? null,
          as_org: ases.get(address)?.as_org ?? null,
        })),
      })),
    }));
    res.json({ worker: q.worker, target: q.target, at, routes });
  });

  router.get('/api/map/changes', async (req, res) => {
    const q = parseRequest(changesQuery, req.query, 'query');
    const changes = await listRouteChanges(deps.pool, {
      since: q.since,
      worker: q.worker,
      target: q.target,
      after: q.cursor,
      limit: q.limit,
    });
    res.json({ changes, next: changes.length === q.limit ? changes.at(-1)!.id : null });
  });
}
