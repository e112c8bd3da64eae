import pg from 'pg';
import type { Logger } from '../log/create-logger.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  max?: number;
  applicationName?: string;
}

/**
 * A pool that survives the database going away: an idle client that loses its server emits 'error' on the
 * pool (unhandled, that would crash the process); the pool drops it and connects afresh on the next query.
 */
export function createPool(url: string, log: Logger, opts: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: opts.applicationName ?? 'hopmap',
  });
  const onError = (err: Error) => log.warn({ err: { code: (err as { code?: string }).code, message: err.message } }, 'database connection lost');
  pool.on('error', onError);
  // A checked-out client whose server goes away emits 'error' on itself; the query in flight rejects anyway.
  pool.on('connect', (client) => client.on('error', onError));
  return pool;
}

/** Resolves true when the database answers a trivial query within `timeoutMs`. */
export async function checkDatabase(pool: pg.Pool, timeoutMs = 2_000): Promise<{ ok: true } | { ok: false; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      pool.query('select 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message || String((err as { code?: string }).code ?? err) };
  } finally {
    clearTimeout(timer);
  }
}

/** The URL with any password masked, for logs and banners. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '*****';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':*****@');
  }
}
