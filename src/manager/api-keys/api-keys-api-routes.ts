import express, { Router } from 'express';
import { z } from 'zod';
import type { Pool } from '../../db/create-pool.js';
import { notFound } from '../../http/http-error.js';
import { parseRequest } from '../../http/validate.js';
import { currentUser } from '../../web/page-context.js';
import { keyName } from '../../keys/key-name.js';
import { createKey, keyJson, listKeys, revokeKey, ROLES } from '../../keys/key-store.js';

export const keyRole = z.enum(ROLES, { error: `expected one of ${ROLES.join(', ')}` }).default('worker');
const createBody = z.strictObject({ name: keyName, role: keyRole });
export const keyIdParams = z.object({ id: z.uuid('expected an API key id (a UUID)') });

/**
 * JSON API for operators (behind the app's session auth, never reachable with an API key): GET /api/keys,
 * POST /api/keys {name, role} (role worker, feeder or admin, default worker; answers the key once), DELETE /api/keys/:id (revokes; the row stays for the record).
 */
export function apiKeysApiRouter(deps: { pool: Pool }): Router {
  const router = Router();
  router.use('/api/keys', express.json({ limit: '16kb' }));

  router.get('/api/keys', async (_req, res) => {
    res.json({ keys: (await listKeys(deps.pool)).map(keyJson) });
  });

  router.post('/api/keys', async (req, res) => {
    const { name, role } = parseRequest(createBody, req.body ?? {}, 'body');
    const { key, record } = await createKey(deps.pool, { name, role, createdBy: currentUser(res.locals) });
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json({ ...keyJson(record), key });
  });

  router.delete('/api/keys/:id', async (req, res) => {
    const { id } = parseRequest(keyIdParams, req.params, 'params');
    const row = await revokeKey(deps.pool, id);
    if (!row) throw notFound(`no API key ${id}`);
    res.json({ revoked: keyJson(row) });
  });

  return router;
}
