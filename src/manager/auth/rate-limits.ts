import type { Request, RequestHandler } from 'express';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { Pool } from '../../db/create-pool.js';
import { HttpError } from '../../http/http-error.js';
import { addressBucket, clientAddress } from './client-address.js';

export interface RateLimit {
  /** Tells this limit's counters apart from others' in the shared table. */
  name: string;
  points: number;
  durationS: number;
}

/**
 * A rate limiter whose counters live in PostgreSQL (rate_limits, made by migration 0008), so every instance
 * counts against the same budget. Expired rows are deleted by the prune_manager_state cron job rather than
 * by a timer in each instance.
 */
export function createRateLimiter(pool: Pool, limit: RateLimit): RateLimiterPostgres {
  return new RateLimiterPostgres({
    storeClient: pool,
    storeType: 'pool',
    schemaName: 'manager',
    tableName: 'rate_limits',
    tableCreated: true,
    clearExpiredByTimeout: false,
    keyPrefix: limit.name,
    points: limit.points,
    duration: limit.durationS,
  });
}

/**
 * Counts by API key once one was verified (`req.apiKey`, set by a plugin's `apiAuth`), else by address
 * (IPv6 by /64): counting by any Bearer token sent would give each made-up token a fresh budget.
 */
export function requesterKey(req: Request): string {
  const keyId = (req as { apiKey?: { id: string | number } }).apiKey?.id;
  if (keyId !== undefined) return `key:${keyId}`;
  return `ip:${addressBucket(clientAddress(req))}`;
}

/**
 * Middleware spending one point per request; over the limit it answers 429 with Retry-After in the one error
 * shape, after calling `onLimited` (to log it). A database error goes to the error handler (503 if transient).
 */
export function rateLimit(
  limiter: RateLimiterPostgres,
  keyOf: (req: Request) => string,
  onLimited?: (req: Request) => void,
): RequestHandler {
  return async (req, res, next) => {
    try {
      await limiter.consume(keyOf(req));
      return next();
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) return next(err);
      onLimited?.(req);
      const retryAfterS = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      res.setHeader('Retry-After', String(retryAfterS));
      next(new HttpError(429, 'rate_limited', `too many requests; retry in ${retryAfterS} s`));
    }
  };
}
