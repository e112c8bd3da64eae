import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Pool } from '../../db/create-pool.js';
import { fieldText, formField, formText } from '../../http/form-field.js';
import { HttpError, notFound } from '../../http/http-error.js';
import { parseRequest } from '../../http/validate.js';
import { currentUser, pageContext } from '../../web/page-context.js';
import type { PageContext } from '../../web/layout.js';
import { keyName } from '../../keys/key-name.js';
import { keyIdParams, keyRole } from './api-keys-api-routes.js';
import { createKey, listKeys, revokeKey } from '../../keys/key-store.js';
import { renderApiKeysPage, type NewKey } from './render-api-keys-page.js';

const createForm = z.object({ name: keyName, role: keyRole });

/**
 * Server-rendered pages: GET /api-keys, POST /api-keys (answers the page with the new key shown once, not a
 * redirect, so the key never sits in a URL or the session), POST /api-keys/:id/revoke.
 */
export function apiKeysPageRouter(deps: { pool: Pool }): Router {
  const router = Router();
  router.use('/api-keys', express.urlencoded({ extended: false, limit: '16kb' }));

  const show = async (res: Response, status: number, flash?: PageContext['flash'], created?: NewKey) => {
    res.setHeader('Cache-Control', 'no-store');
    res
      .status(status)
      .type('html')
      .send(renderApiKeysPage(pageContext(res, 'API keys', flash), await listKeys(deps.pool), created));
  };

  router.get('/api-keys', async (req, res) => {
    await show(
      res,
      200,
      req.query.revoked ? { kind: 'ok', message: 'Key revoked: it is refused from now on.' } : undefined,
    );
  });

  router.post('/api-keys', async (req, res) => {
    let form: z.infer<typeof createForm>;
    try {
      const role = formField(req.body, 'role');
      form = parseRequest(
        createForm,
        { name: formText(req.body, 'name'), role: role ? fieldText(role) : undefined },
        'body',
      );
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      return show(res, err.status, { kind: 'error', message: err.message });
    }
    const { key, record } = await createKey(deps.pool, { ...form, createdBy: currentUser(res.locals) });
    await show(
      res,
      201,
      { kind: 'ok', message: `Created ${record.role} key ${record.prefix}… for ${record.name}.` },
      { key, name: record.name, role: form.role, gatewayUrl: gatewayUrl(req) },
    );
  });

  router.post('/api-keys/:id/revoke', async (req, res) => {
    const { id } = parseRequest(keyIdParams, req.params, 'params');
    if (!(await revokeKey(deps.pool, id))) throw notFound(`no API key ${id}`);
    res.redirect(303, '/api-keys?revoked=1');
  });

  return router;
}

function gatewayUrl(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'manager.example.net'}/gateway`;
}
