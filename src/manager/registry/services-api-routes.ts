import express, { Router } from 'express';
import { z } from 'zod';
import type { Pool } from '../../db/create-pool.js';
import { notFound } from '../../http/http-error.js';
import { parseRequest } from '../../http/validate.js';
import { registerService } from './register-service.js';
import { listServices, removeService, renameService, serviceJson } from './registered-services.js';

export const serviceName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'at most 100 characters')
  .regex(/^[^\p{Cc}]*$/u, 'no control characters');
const addBody = z.strictObject({
  url: z.string().min(1, 'give the service URL').max(2000),
  name: serviceName.optional(),
});
const renameBody = z.strictObject({ name: serviceName });
export const idParams = z.object({ id: z.coerce.number({ error: 'expected a number' }).int().positive() });

export interface ServicesApiDeps {
  pool: Pool;
  /** How long detection waits for /service-info (default 5 s). */
  timeoutMs?: number;
}

/**
 * JSON API of the registry (for an operator's session, not for API keys): GET /api/services,
 * POST /api/services {url, name?}, PATCH /api/services/:id {name}, DELETE /api/services/:id.
 */
export function servicesApiRouter(deps: ServicesApiDeps): Router {
  const router = Router();
  router.use('/api/services', express.json({ limit: '16kb' }));

  router.get('/api/services', async (_req, res) => {
    res.json({ services: (await listServices(deps.pool)).map(serviceJson) });
  });

  router.post('/api/services', async (req, res) => {
    const body = parseRequest(addBody, req.body ?? {}, 'body');
    const row = await registerService(deps.pool, body, { timeoutMs: deps.timeoutMs ?? 5_000 });
    res.status(201).json(serviceJson(row));
  });

  router.patch('/api/services/:id', async (req, res) => {
    const { id } = parseRequest(idParams, req.params, 'params');
    const { name } = parseRequest(renameBody, req.body ?? {}, 'body');
    const row = await renameService(deps.pool, id, name);
    if (!row) throw notFound(`no registered service ${id}`);
    res.json(serviceJson(row));
  });

  router.delete('/api/services/:id', async (req, res) => {
    const { id } = parseRequest(idParams, req.params, 'params');
    const row = await removeService(deps.pool, id);
    if (!row) throw notFound(`no registered service ${id}`);
    res.json({ removed: serviceJson(row) });
  });

  return router;
}
