import type { Request, Response } from 'express';
import { z } from 'zod';
import { HttpError } from '../../http/http-error.js';
import { parseRequest } from '../../http/validate.js';
import type { WebPluginFactory } from '../../web/web-plugin.js';
import { pageContext } from '../../web/page-context.js';
import { addressSchema as address } from '../../net/address-schema.js';
import { time } from '../api/map-query-schemas.js';
import { addressDetails } from '../graph/address-info.js';
import { changesNewestFirst, currentRoutes, routeWorkers } from './path-page-queries.js';
import { renderChangesPage } from './render-changes-page.js';
import { renderPathPage } from './render-path-page.js';

const DAY_MS = 24 * 3_600_000;
/** A route that flaps every few minutes would fill a page; past this many the pages say there are more. */
const MAX_CHANGES = 500;

// An empty form field is the same as no field.
const blank = (v: unknown) => (v === '' ? undefined : v);
const pathsQuery = z.strictObject({
  worker: z.preprocess(blank, z.string().max(200).optional()),
  target: z.preprocess(blank, address.optional()),
});
const changesQuery = z.strictObject({ since: z.preprocess(blank, time.optional()) });

const text = (v: unknown) => (typeof v === 'string' ? v : undefined);

/**
 * Server-rendered views of route history for a signed-in operator: GET /paths (a worker's routes to a target,
 * hop by hop, with their changes) and GET /changes (the timeline of route changes). A bad query value shows
 * the page again with the error and status 400.
 */
export const pathPagesPlugin: WebPluginFactory = ({ pool, requireUserPage }) => ({
  routes(app) {
    app.get('/paths', requireUserPage, async (req: Request, res: Response) => {
      const workers = await routeWorkers(pool);
      let q: z.infer<typeof pathsQuery>;
      try {
        q = parseRequest(pathsQuery, req.query, 'query');
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        const page = renderPathPage(pageContext(res, 'Paths', { kind: 'error', message: err.message }), {
          workers,
          worker: text(req.query.worker),
          target: text(req.query.target),
        });
        return void res.status(err.status).type('html').send(page);
      }
      if (!q.worker || !q.target)
        return void res
          .type('html')
          .send(renderPathPage(pageContext(res, 'Paths'), { workers, worker: q.worker, target: q.target }));
      const [routes, changes] = await Promise.all([
        currentRoutes(pool, q.worker, q.target),
        changesNewestFirst(pool, { worker: q.worker, target: q.target, limit: MAX_CHANGES }),
      ]);
      const details = await addressDetails(pool, [...new Set(routes.flatMap((r) => r.hops.flat()))]);
      res.type('html').send(
        renderPathPage(pageContext(res, `Paths from ${q.worker} to ${q.target}`), {
          workers,
          worker: q.worker,
          target: q.target,
          routes,
          changes,
          details,
        }),
      );
    });

    app.get('/changes', requireUserPage, async (req: Request, res: Response) => {
      let q: z.infer<typeof changesQuery>;
      try {
        q = parseRequest(changesQuery, req.query, 'query');
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        const ctx = pageContext(res, 'Route changes', { kind: 'error', message: err.message });
        return void res
          .status(err.status)
          .type('html')
          .send(
            renderChangesPage(ctx, {
              since: new Date(Date.now() - DAY_MS).toISOString(),
              sinceInput: text(req.query.since) ?? '',
              changes: [],
              limit: MAX_CHANGES,
            }),
          );
      }
      const since = q.since ?? new Date(Date.now() - DAY_MS).toISOString();
      const changes = await changesNewestFirst(pool, { since, limit: MAX_CHANGES });
      res.type('html').send(
        renderChangesPage(pageContext(res, 'Route changes'), {
          since,
          sinceInput: q.since ?? '',
          changes,
          limit: MAX_CHANGES,
        }),
      );
    });
  },
});
