import type { Express, Request, Response } from 'express';
import type { Pool } from '../db/create-pool.js';
import { DEFAULT_BODY_LIMIT } from '../http/create-service-app.js';
import { decodedBody, parseSize } from '../http/decoded-body.js';
import { HttpError } from '../http/http-error.js';
import { splitLines } from '../http/split-lines.js';
import type { Logger } from '../log/create-logger.js';
import type { IngestFollowUps } from '../results/ingest-follow-ups.js';
import { Ingest } from './ingest-results.js';
import type { OutputMetrics } from './output-metrics.js';

/** One NDJSON line at most: the largest real result (a 64-hop multipath trace with MPLS) is about 100 KB. */
export const MAX_NDJSON_LINE = 1024 * 1024;
/**
 * What a blank line costs of the bad-input budget: it is one byte, but splitting it off costs as much as a
 * short line, and 512 MiB of newlines would otherwise be 512 million of them.
 */
const BLANK_LINE_COST = 1024;

/**
 * POST /results: one result, a JSON array, or NDJSON (`application/x-ndjson`, streamed line by line, so a
 * large body never sits in memory), optionally gzip-, deflate- or br-encoded. A 2xx answer means every
 * valid item is committed; invalid items make it a 400 that names each one's index and field, valid ones
 * stored. A body that stops early (too large, too much bad input) says so, with what was stored up to there.
 */
export function resultsRoutes(
  app: Express,
  deps: {
    pool: Pool;
    followUps: IngestFollowUps;
    metrics: OutputMetrics;
    onHops?: (hops: string[]) => void;
    log?: Logger;
  },
): void {
  app.post('/results', async (req, res) => {
    const log = (deps.log ?? (req.app.locals.log as Logger | undefined))?.child({ module: 'ingest' });
    const ingest = new Ingest(deps.pool, deps.followUps, log);
    let stopped: HttpError | undefined;
    if (req.is('application/x-ndjson') || req.is('application/jsonl')) stopped = await ingestNdjson(req, ingest);
    else if (req.is('application/json')) {
      const items: unknown[] = Array.isArray(req.body) ? req.body : [req.body];
      for (const [i, item] of items.entries()) {
        if (ingest.exhausted) {
          stopped = tooMuchBadInput(`item ${i}`);
          break;
        }
        await ingest.add(item, i);
      }
    } else
      throw new HttpError(
        415,
        'unsupported_media_type',
        `send application/json (one result or an array) or application/x-ndjson, not ${req.get('content-type') ?? 'no content type'}`,
      );
    await ingest.flush();
    answer(res, ingest, deps, stopped);
  });
}

/** Reads the NDJSON body to its end, or to where it had to stop (returned; what came before is stored). */
async function ingestNdjson(req: Request, ingest: Ingest): Promise<HttpError | undefined> {
  // The service's body limit: NDJSON streams, so it bounds the work of one request rather than its memory.
  const limit = (req.app.locals.bodyLimit as number | undefined) ?? parseSize(DEFAULT_BODY_LIMIT);
  try {
    for await (const line of splitLines(decodedBody(req, limit), MAX_NDJSON_LINE)) {
      if (ingest.exhausted) return tooMuchBadInput(`line ${line.number}`);
      const index = line.number - 1;
      if ('skipped' in line) {
        ingest.waste(line.skipped);
        continue;
      }
      if ('tooLong' in line) {
        ingest.reject(
          [{ index, field: '(line)', message: `line ${line.number} is longer than ${MAX_NDJSON_LINE} bytes; skipped` }],
          line.bytes,
        );
        continue;
      }
      const text = line.text.toString('utf8');
      if (!text.trim()) {
        ingest.waste(BLANK_LINE_COST);
        continue;
      }
      let item: unknown;
      try {
        item = JSON.parse(text);
      } catch (err) {
        ingest.reject([{ index, field: '(line)', message: `not JSON: ${(err as Error).message}` }], line.bytes);
        continue;
      }
      await ingest.add(item, index, line.bytes);
    }
  } catch (err) {
    // Too large: what was read is stored and counted in the answer. Anything else (corrupt encoding, the
    // client gone) is answered by the error handler; the batches already committed stay committed.
    if (err instanceof HttpError && err.status === 413) return err;
    throw err;
  }
  return undefined;
}

const tooMuchBadInput = (where: string) =>
  new HttpError(
    400,
    'too_many_invalid',
    `too many invalid items; the rest of the body, from ${where} on, was not read (the valid items before it were stored)`,
  );

function answer(
  res: Response,
  ingest: Ingest,
  deps: { metrics: OutputMetrics; onHops?: (hops: string[]) => void },
  stopped: HttpError | undefined,
): void {
  const { accepted, duplicate, rejected, errors, newHops, links, routeChanges } = ingest.summary;
  deps.metrics.accepted.inc(accepted);
  deps.metrics.duplicate.inc(duplicate);
  deps.metrics.rejected.inc(rejected);
  deps.metrics.hopsNew.inc(newHops);
  deps.metrics.routeChanges.inc(routeChanges);
  if (ingest.summary.hops.length) deps.onHops?.(ingest.summary.hops);
  const counts = { accepted, duplicate, rejected, new_hops: newHops, links, route_changes: routeChanges };
  if (rejected === 0 && !stopped) {
    res.json(counts);
    return;
  }
  const listed = `${errors
    .slice(0, 3)
    .map((e) => `[${e.index}] ${e.field}: ${e.message}`)
    .join('; ')}${errors.length > 3 ? '; …' : ''}`;
  const error = stopped
    ? {
        code: stopped.code,
        message: `${stopped.message}${rejected ? `; ${rejected} item(s) rejected: ${listed}` : ''}`,
      }
    : { code: 'invalid_results', message: `${rejected} item(s) rejected (the valid ones were stored): ${listed}` };
  // read_all: false tells a client that the items after the cut were neither stored nor rejected.
  res.status(stopped?.status ?? 400).json({ error, ...counts, ...(stopped ? { read_all: false } : {}), errors });
}
