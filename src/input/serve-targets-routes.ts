import type { Express } from 'express';
import { z } from 'zod';
import type { Pool } from '../db/create-pool.js';
import { parseRequest } from '../http/validate.js';
import { leaseTargets, type LeaseResult } from '../targets/lease-targets.js';
import type { TargetPolicy } from '../targets/target-policy.js';
import { consumerIdOf } from './consumer-id.js';
import type { InputMetrics } from './input-metrics.js';

export interface ServeOptions {
  leaseTtlMs: number;
  passCooldownMs: number;
  maxBatch: number;
  /** Re-issues of an unacknowledged target before it is set aside for the rest of the pass (default 3). */
  maxReissues?: number | undefined;
}

/** A target is served at most 1 + 3 times in a pass: enough for a worker restart or an output outage, not for ever. */
export const DEFAULT_MAX_REISSUES = 3;

/** GET / (one address as text, what the original worker polled) and GET /targets?n= (a JSON batch with its lease). */
export function serveTargetsRoutes(
  app: Express,
  deps: { pool: Pool; policy: TargetPolicy; metrics: InputMetrics; opts: ServeOptions },
): void {
  const { pool, policy, metrics, opts } = deps;
  const maxReissues = opts.maxReissues ?? DEFAULT_MAX_REISSUES;
  const query = z.object({
    n: z.coerce
      .number({ error: 'expected a number' })
      .int('expected a whole number')
      .min(1)
      .max(opts.maxBatch)
      .default(100),
    consumer: z.string().optional(),
  });

  const lease = async (consumerId: string, n: number): Promise<LeaseResult> => {
    const result = await leaseTargets(
      pool,
      { consumerId, n, leaseTtlMs: opts.leaseTtlMs, passCooldownMs: opts.passCooldownMs, maxReissues },
      policy,
    );
    if (result.lease) {
      metrics.leasesIssued.inc();
      metrics.targetsServed.inc(result.targets.length);
      metrics.consumerServed.inc({ consumer: consumerId }, result.targets.length - result.reissued);
      metrics.consumerPass.set({ consumer: consumerId }, result.pass);
    }
    if (result.reissued > 0) {
      metrics.leasesReissued.inc();
      metrics.targetsReissued.inc(result.reissued);
    }
    if (result.setAside > 0) metrics.targetsSetAside.inc(result.setAside);
    return result;
  };

  app.get('/', async (req, res) => {
    const result = await lease(consumerIdOf(req), 1);
    if (result.targets.length === 0) {
      res
        .status(204)
        .setHeader('Retry-After', String(result.retryAfterSeconds ?? 60))
        .end();
      return;
    }
    res.setHeader('X-Lease-Id', result.lease!);
    res.type('text/plain').send(`${result.targets[0]}\n`);
  });

  app.get('/targets', async (req, res) => {
    const { n } = parseRequest(query, req.query, 'query');
    const result = await lease(consumerIdOf(req), n);
    if (result.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(result.retryAfterSeconds));
    res.json({
      lease: result.lease,
      expires_at: result.expiresAt?.toISOString() ?? null,
      targets: result.targets,
      pass: result.pass,
      ...(result.retryAfterSeconds !== undefined ? { retry_after_seconds: result.retryAfterSeconds } : {}),
    });
  });
}
