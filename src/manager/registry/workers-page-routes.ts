import express, { Router, type Response } from 'express';
import { z } from 'zod';
import type { Pool } from '../../db/create-pool.js';
import { HttpError, notFound } from '../../http/http-error.js';
import { formText } from '../../http/form-field.js';
import { parseRequest } from '../../http/validate.js';
import { pageContext } from '../../web/page-context.js';
import { registerService } from './register-service.js';
import { listServices, removeService, renameService } from './registered-services.js';
import { renderWorkersPage, type AddForm } from './render-workers-page.js';
import { idParams, serviceName } from './services-api-routes.js';

const addForm = z.object({
  url: z.string().trim().min(1, 'give the service URL').max(2000),
  name: z.string().trim().max(100).optional(),
});
const renameForm = z.object({ name: serviceName });

export interface WorkersPageDeps {
  pool: Pool;
  timeoutMs?: number;
}

/**
 * Server-rendered pages: GET /workers, POST /workers (add by URL), POST /workers/:id/rename,
 * POST /workers/:id/remove. Successful forms redirect (303) so a reload does not post again; a failed add
 * shows the page again with the error and what was typed.
 */
export function workersPageRouter(deps: WorkersPageDeps): Router {
  const router = Router();
  router.use('/workers', express.urlencoded({ extended: false, limit: '16kb' }));

  const show = async (
    res: Response,
    status: number,
    flash?: { kind: 'ok' | 'error'; message: string },
    form?: AddForm,
  ) => {
    res
      .status(status)
      .type('html')
      .send(renderWorkersPage(pageContext(res, 'Workers', flash), await listServices(deps.pool), form));
  };

  router.get('/workers', async (req, res) => {
    await show(res, 200, await flashFor(deps.pool, req.query));
  });

  router.post('/workers', async (req, res) => {
    const form = { url: formText(req.body, 'url'), name: formText(req.body, 'name') };
    try {
      const input = parseRequest(addForm, form, 'body');
      const row = await registerService(
        deps.pool,
        { url: input.url, name: input.name || undefined },
        { timeoutMs: deps.timeoutMs ?? 5_000 },
      );
      res.redirect(303, `/workers?added=${row.id}`);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      await show(res, err.status, { kind: 'error', message: err.message }, form);
    }
  });

  router.post('/workers/:id/rename', async (req, res) => {
    const { id } = parseRequest(idParams, req.params, 'params');
    const { name } = parseRequest(renameForm, { name: formText(req.body, 'name') }, 'body');
    if (!(await renameService(deps.pool, id, name))) throw notFound(`no registered service ${id}`);
    res.redirect(303, `/workers?renamed=${id}`);
  });

  router.post('/workers/:id/remove', async (req, res) => {
    const { id } = parseRequest(idParams, req.params, 'params');
    if (!(await removeService(deps.pool, id))) throw notFound(`no registered service ${id}`);
    res.redirect(303, '/workers?removed=1');
  });

  return router;
}

/** The notice after a redirect, built from the database rather than from text in the URL. */
async function flashFor(
  pool: Pool,
  query: Record<string, unknown>,
): Promise<{ kind: 'ok'; message: string } | undefined> {
  if (query.removed) return { kind: 'ok', message: 'Removed.' };
  const id = Number(query.added ?? query.renamed);
  if (!Number.isInteger(id)) return undefined;
  const s = (await listServices(pool)).find((x) => x.id === id);
  if (!s) return undefined;
  return {
    kind: 'ok',
    message: query.added ? `Registered ${s.name} (${s.serviceType}), status ${s.status}.` : `Renamed to ${s.name}.`,
  };
}
