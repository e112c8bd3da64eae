import pg from 'pg';
import type { Logger } from '../log/create-logger.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  max?: number;
  applicationName?: string;
  /**
   * Let libraries use named prepared statements (graphile-worker, rate-limiter-flexible ask for them). Only
   * for a pool on the PostgreSQL server itself: PgBouncer 1.18 in transaction mode hands each transaction
   * to any server connection, where a statement prepared on another one does not exist.
   */
  preparedStatements?: boolean;
}

/**
 * A query config without its statement name. Submittables (COPY streams, cursors) carry no statement name; a named
 * query without text is a re-run of a prepared one: both pass unchanged.
 */
function unnamed(config: unknown): unknown {
  if (typeof config !== 'object' || config === null) return config;
  const named = config as { submit?: unknown; name?: unknown; text?: unknown };
  if (typeof named.submit === 'function' || named.name === undefined || named.text === undefined) return config;
  const copy = { ...named };
  delete copy.name;
  return copy;
}

/** A client that sends every query unnamed (parse, bind, execute in one round trip), whatever the caller asked. */
class UnnamedStatementClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    // Every overload of query() takes the statement (text or config) first; only that argument changes.
    const query = super.query.bind(this) as (...args: unknown[]) => unknown;
    this.query = ((first: unknown, ...rest: unknown[]) => query(unnamed(first), ...rest)) as pg.Client['query'];
  }
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
    ...(opts.preparedStatements ? {} : { Client: UnnamedStatementClient }),
  });
  const onError = (err: Error) =>
    log.warn({ err: { code: (err as { code?: string }).code, message: err.message } }, 'database connection lost');
  pool.on('error', onError);
  // A checked-out client whose server goes away emits 'error' on itself; the query in flight rejects anyway.
  pool.on('connect', (client) => client.on('error', onError));
  return pool;
}

/** Resolves true when the database answers a trivial query within `timeoutMs`. */
export async function checkDatabase(
  pool: pg.Pool,
  timeoutMs = 2_000,
): Promise<{ ok: true } | { ok: false; reason: string }> {
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
