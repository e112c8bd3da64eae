import { Router, type RequestHandler } from 'express';
import type { Pool } from '../../db/create-pool.js';
import { parseRequest } from '../../http/validate.js';
import { listRouteChanges, routePathsAt } from '../../results/route-history.js';
import { DATA_ATTRIBUTION } from '../enrich/data-credit.js';
import { asOfAddresses } from '../graph/address-info.js';
import { changesQuery, pathQuery } from './map-query-schemas.js';

/**
 * Route history, the one implementation: GET /api/map/path (a worker's routes to a target at a time, hops with
 * their AS) and GET /api/map/changes. The manager serves it to a signed-in operator (map-plugin.ts), the output
 * service to an admin key (`routeHistoryApi` below). With `olderPaths`, also the output service's first names
 * for them, kept for its clients: GET /routes/changes (the same handler, `after` for `cursor`) and GET
 * /routes/path (the same handler, each TTL's hops as the bare address list they are stored as).
 */
export function routeHistoryRoutes(router: Router, deps: { pool: Pool }, opts: { olderPaths?: boolean } = {}): void {
  const changes = changesHandler(deps.pool);
  router.get('/api/map/path', pathHandler(deps.pool, 'with-as'));
  router.get('/api/map/changes', changes);
  if (opts.olderPaths) {
    router.get('/routes/path', pathHandler(deps.pool, 'addresses'));
    router.get('/routes/changes', changes);
  }
}

/**
 * The route history as the output service serves it, to admin keys on both its ports: where it answers (for the
 * service's admin gate) and its router, with the older /routes/* paths. The process composing the service
 * passes it in (src/cli/output-wiring.ts).
 */
export const routeHistoryApi = {
  paths: ['/api/map', '/routes'],
  router(deps: { pool: Pool }): Router {
    const router = Router();
    routeHistoryRoutes(router, deps, { olderPaths: true });
    return router;
  },
};

/** `hops: 'with-as'`: per TTL `{ ttl, addresses: [{ address, asn, as_org }] }`; `'addresses'`: as stored. */
function pathHandler(pool: Pool, hops: 'with-as' | 'addresses'): RequestHandler {
  return async (req, res) => {
    const q = parseRequest(pathQuery, req.query, 'query');
    const at = q.at ?? new Date().toISOString();
    const spans = await routePathsAt(pool, q.worker, q.target, at);
    if (hops === 'addresses') {
      res.json({ worker: q.worker, target: q.target, at, routes: spans });
      return;
    }
    const ases = await asOfAddresses(pool, [...new Set(spans.flatMap((s) => s.hops.flat()))]);
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
    res.json({ worker: q.worker, target: q.target, at, routes, attribution: DATA_ATTRIBUTION });
  };
}

function changesHandler(pool: Pool): RequestHandler {
  return async (req, res) => {
    const q = parseRequest(changesQuery, req.query, 'query');
    const changes = await listRouteChanges(pool, {
      since: q.since,
      worker: q.worker,
      target: q.target,
      after: q.cursor ?? q.after,
      limit: q.limit,
    });
    res.json({ changes, next: changes.length === q.limit ? changes.at(-1)!.id : null });
  };
}
