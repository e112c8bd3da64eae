import { ConfigError } from '../config/load-config.js';
import type { Pool, PoolClient } from './create-pool.js';
import { redactUrl } from './create-pool.js';

/** What needs a session was pointed at a transaction-pooling proxy: a configuration error, naming the key to set. */
export class SessionRequiredError extends ConfigError {
  override name = 'SessionRequiredError';
}

const backendPid = async (client: PoolClient): Promise<number> =>
  (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;

/**
 * Refuses a pool whose clients do not each keep one server session, as behind PgBouncer in transaction
 * mode: a session advisory lock or a LISTEN there lands on a server connection that then serves others
 * (the lock is never released, the notifications go nowhere), which would hang silently. Two clients held
 * at once always have two backends, and a client keeps its own across statements; through a transaction
 * pool, statements sent one after another land on the most recently freed server connection (PgBouncer
 * reuses the last one first), so the first two pids match, or the third differs from the first.
 */
export async function assertOwnSession(pool: Pool, url: string, what: string): Promise<void> {
  // A pool of one cannot hold the two clients the check needs (it would wait for itself).
  if ((pool.options.max ?? 10) < 2) return;
  const a = await pool.connect();
  let b: PoolClient | undefined;
  try {
    b = await pool.connect();
    const first = await backendPid(a);
    const other = await backendPid(b);
    const again = await backendPid(a);
    if (first === other || first !== again) {
      throw new SessionRequiredError(
        `${url.includes('://') ? redactUrl(url) : url} does not keep a session per connection (PgBouncer in transaction or statement mode?), but ${what} needs one: ` +
          'set DATABASE_DIRECT_URL (--database-direct-url, database_direct_url) to the PostgreSQL server itself, and keep DATABASE_URL at the pooler',
      );
    }
  } finally {
    b?.release();
    a.release();
  }
}
