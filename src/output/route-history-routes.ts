import type { Express } from 'express';
import { z } from 'zod';
import type { Pool } from '../db/create-pool.js';
import { parseRequest } from '../http/validate.js';
import { addressSchema as address } from '../net/address-schema.js';
import { listRouteChanges, routePathsAt } from '../results/route-history.js';

const time = z.iso.datetime({ offset: true });

const changesQuery = z.strictObject({
  since: time.optional(),
  worker: z.string().min(1).optional(),
  target: address.optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});

const pathQuery = z.strictObject({
  worker: z.string().min(1),
  target: address,
  at: time.optional(),
});

/** Route history: GET /routes/changes (what moved, with both paths) and GET /routes/path (a route at a time). */
export function routeHistoryRoutes(app: Express, deps: { pool: Pool }): void {
  app.get('/routes/changes', async (req, res) => {
    const q = parseRequest(changesQuery, req.query, 'query');
    const changes = await listRouteChanges(deps.pool, q);
    res.json({ changes, next: changes.length === q.limit ? changes.at(-1)!.id : null });
  });

  app.get('/routes/path', async (req, res) => {
    const q = parseRequest(pathQuery, req.query, 'query');
    const at = q.at ?? new Date().toISOString();
    res.json({ worker: q.worker, target: q.target, at, routes: await routePathsAt(deps.pool, q.worker, q.target, at) });
  });
}
