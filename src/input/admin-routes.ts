import type { Express } from 'express';
import { z } from 'zod';
import type { Pool } from '../db/create-pool.js';
import { notFound } from '../http/http-error.js';
import { parseRequest } from '../http/validate.js';
import { consumerStateSchema } from '../targets/consumer-state-format.js';
import { addExclusions, listExclusions, removeExclusion } from '../targets/exclusions.js';
import { exportConsumerState } from '../targets/export-consumer-state.js';
import { importConsumerState } from '../targets/import-consumer-state.js';
import { parseTarget } from '../net/ip-address.js';
import { targetStatus } from '../targets/target-status.js';

const cidr = z.string().transform((s, ctx) => {
  const parsed = parseTarget(s);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.reason });
    return z.NEVER;
  }
  return parsed.block.cidr;
});
// PostgreSQL text refuses NUL: refused here it is a 400 naming the entry, not a 500 from the insert.
const reason = z
  .string()
  .min(1)
  .max(500)
  .refine((s) => !s.includes('\u0000'), 'must not contain a NUL character');
const exclusion = z.strictObject({ cidr, reason: reason.default('api') });
// One entry or a list; normalised to a list first so errors name the entry (`body[2].cidr`).
const exclusionsBody = z.preprocess((v): unknown[] => (Array.isArray(v) ? v : [v]), z.array(exclusion).min(1));

/** /status, /export and /import of consumer state, and the do-not-probe list. */
export function adminRoutes(app: Express, deps: { pool: Pool }): void {
  const { pool } = deps;

  app.get('/status', async (_req, res) => {
    res.json(await targetStatus(pool));
  });

  app.get('/export', async (_req, res) => {
    res.setHeader('Content-Disposition', 'attachment; filename="hopmap-consumers.json"');
    res.json(await exportConsumerState(pool));
  });

  app.post('/import', async (req, res) => {
    const state = parseRequest(consumerStateSchema, req.body, 'body');
    res.json(await importConsumerState(pool, state));
  });

  app.get('/exclusions', async (_req, res) => {
    res.json({ exclusions: await listExclusions(pool) });
  });

  app.post('/exclusions', async (req, res) => {
    const entries = parseRequest(exclusionsBody, req.body, 'body');
    res.status(201).json({ received: entries.length, added: await addExclusions(pool, entries) });
  });

  app.delete('/exclusions', async (req, res) => {
    const { cidr: range } = parseRequest(z.object({ cidr }), req.query, 'query');
    if (!(await removeExclusion(pool, range))) throw notFound(`${range} is not on the do-not-probe list`);
    res.status(204).end();
  });
}
