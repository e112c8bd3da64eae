import type { Express } from 'express';
import type { Pool } from '../db/create-pool.js';
import { HttpError, badRequest, type ErrorDetail } from '../http/http-error.js';
import { addHops } from '../targets/add-hops.js';
import { formatAddress, parseAddress } from '../net/ip-address.js';
import type { InputMetrics } from './input-metrics.js';

/** Largest number of hops in one POST; a traceroute has a few dozen. */
const MAX_HOPS = 100_000;

/**
 * POST /hops: a JSON array of address strings, or `{"hops": [...]}`. Valid entries are added even when
 * others are not; then the answer is 400 naming each bad entry (`hops[3]`, either way), with the counts.
 */
export function hopsRoutes(app: Express, deps: { pool: Pool; metrics: InputMetrics }): void {
  app.post('/hops', async (req, res) => {
    const body: unknown = req.body;
    const list: unknown[] | undefined = Array.isArray(body)
      ? body
      : body && typeof body === 'object' && 'hops' in body && Array.isArray(body.hops)
        ? body.hops
        : undefined;
    if (!list)
      throw badRequest('validation_failed', 'body: expected a JSON array of IP address strings, or {"hops": [...]}');
    if (list.length > MAX_HOPS)
      throw new HttpError(413, 'payload_too_large', `${list.length} hops in one request; send at most ${MAX_HOPS}`);

    const valid: string[] = [];
    const details: ErrorDetail[] = [];
    list.forEach((entry, i) => {
      const a = typeof entry === 'string' ? parseAddress(entry) : null;
      if (a) valid.push(formatAddress(a));
      else
        details.push({
          // `hops[3]` whether the body is the bare array or `{"hops": [...]}` (docs/targets.md).
          path: `hops[${i}]`,
          message:
            typeof entry === 'string'
              ? `not an IPv4 or IPv6 address: ${JSON.stringify(entry.slice(0, 64))}`
              : `expected a string, got ${entry === null ? 'null' : typeof entry}`,
        });
    });
    const counts = await addHops(deps.pool, valid);
    deps.metrics.hopsReceived.inc(list.length);
    deps.metrics.hopsNew.inc(counts.added);
    deps.metrics.hopsDuplicate.inc(counts.duplicate);
    deps.metrics.hopsCovered.inc(counts.covered);
    deps.metrics.hopsRejected.inc(details.length);
    const summary = { received: list.length, ...counts, rejected: details.length };
    if (details.length === 0) {
      res.json(summary);
      return;
    }
    res.status(400).json({
      error: {
        code: 'invalid_hops',
        message: `${details.length} of ${list.length} hops rejected (the valid ones were added): ${details
          .slice(0, 5)
          .map((d) => `${d.path}: ${d.message}`)
          .join('; ')}${details.length > 5 ? '; …' : ''}`,
        details,
      },
      ...summary,
    });
  });
}
