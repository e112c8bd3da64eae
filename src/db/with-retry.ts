import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/create-logger.js';
import { isTransientDatabaseError } from './transient-errors.js';

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  log?: Logger;
  /** What is being retried, for the log line. */
  what?: string;
  signal?: AbortSignal;
}

/**
 * Runs `fn`, retrying only transient database errors with "full jitter" exponential backoff
 * (delay drawn from 0..min(max, base*2^n)), which spreads reconnecting instances apart after a restart.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 8;
  const base = opts.baseDelayMs ?? 100;
  const max = opts.maxDelayMs ?? 5_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !isTransientDatabaseError(err) || opts.signal?.aborted) throw err;
      const delay = Math.round(Math.random() * Math.min(max, base * 2 ** (attempt - 1)));
      opts.log?.warn(
        { err: { code: (err as { code?: string }).code, message: (err as Error).message }, attempt, delay },
        `${opts.what ?? 'database call'} failed transiently; retrying`,
      );
      await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : undefined);
    }
  }
}
