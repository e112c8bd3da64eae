import { createInterface } from 'node:readline';
import { createGunzip, createInflate } from 'node:zlib';
import type { Express, Request, Response } from 'express';
import type { Pool } from '../db/create-pool.js';
import { HttpError, badRequest } from '../http/http-error.js';
import { Ingest } from './ingest-results.js';
import type { OutputMetrics } from './output-metrics.js';

/**
 * POST /results: one result, a JSON array, or NDJSON (`application/x-ndjson`, streamed line by line, so a
 * 100 MB body never sits in memory), optionally gzip- or deflate-encoded. A 2xx answer means every valid
 * item is committed; invalid items make it a 400 that names each one's index and field, valid ones stored.
 */
export function resultsRoutes(app: Express, deps: { pool: Pool; metrics: OutputMetrics; onHops?: (hops: string[]) => void }): void {
  app.post('/results', async (req, res) => {
    const ingest = new Ingest(deps.pool);
    if (req.is('application/x-ndjson') || req.is('application/jsonl')) await ingestNdjson(req, ingest);
    else if (req.is('application/json')) {
      const items: unknown[] = Array.isArray(req.body) ? req.body : [req.body];
      for (const [i, item] of items.entries()) await ingest.add(item, i);
    } else throw new HttpError(415, 'unsupported_media_type', `send application/json (one result or an array) or application/x-ndjson, not ${req.get('content-type') ?? 'no content type'}`);
    await ingest.flush();
    answer(res, ingest, deps);
  });
}

async function ingestNdjson(req: Request, ingest: Ingest): Promise<void> {
  const encoding = (req.get('content-encoding') ?? 'identity').toLowerCase();
  let source: NodeJS.ReadableStream = req;
  if (encoding === 'gzip') source = req.pipe(createGunzip());
  else if (encoding === 'deflate') source = req.pipe(createInflate());
  else if (encoding !== 'identity') throw new HttpError(415, 'unsupported_encoding', `content-encoding ${encoding} is not supported (gzip, deflate, identity)`);
  const lines = createInterface({ input: source, crlfDelay: Infinity });
  let index = 0;
  try {
    for await (const line of lines) {
      const i = index++;
      if (!line.trim()) continue;
      let item: unknown;
      try {
        item = JSON.parse(line);
      } catch (err) {
        ingest.reject([{ index: i, field: '(line)', message: `not JSON: ${(err as Error).message}` }]);
        continue;
      }
      await ingest.add(item, i);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'Z_DATA_ERROR') throw badRequest('invalid_encoding', `the body is not valid ${encoding}: ${(err as Error).message}`);
    throw err;
  }
}

function answer(res: Response, ingest: Ingest, deps: { metrics: OutputMetrics; onHops?: (hops: string[]) => void }): void {
  const { accepted, duplicate, rejected, errors, newHops, links, routeChanges } = ingest.summary;
  deps.metrics.accepted.inc(accepted);
  deps.metrics.duplicate.inc(duplicate);
  deps.metrics.rejected.inc(rejected);
  deps.metrics.hopsNew.inc(newHops);
  deps.metrics.routeChanges.inc(routeChanges);
  if (ingest.summary.hops.length) deps.onHops?.(ingest.summary.hops);
  const counts = { accepted, duplicate, rejected, new_hops: newHops, links, route_changes: routeChanges };
  if (rejected === 0) {
    res.json(counts);
    return;
  }
  res.status(400).json({
    error: {
      code: 'invalid_results',
      message: `${rejected} item(s) rejected (the valid ones were stored): ${errors.slice(0, 3).map((e) => `[${e.index}] ${e.field}: ${e.message}`).join('; ')}${errors.length > 3 ? '; …' : ''}`,
    },
    ...counts,
    errors,
  });
}
