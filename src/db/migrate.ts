import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { runMigrations } from 'graphile-worker';
import type pg from 'pg';
import type { Logger } from '../log/create-logger.js';
import { graphileLogger } from '../log/graphile-logger.js';
import { PROJECT_ROOT } from '../version.js';
import { assertOwnSession } from './assert-own-session.js';
import { createPool } from './create-pool.js';
import { withRetry } from './with-retry.js';

export const MIGRATIONS_DIR = join(PROJECT_ROOT, 'migrations');

/** Held for the whole migration, so any number of services starting at once migrate one after another. */
const MIGRATION_LOCK_KEY = 727_101_2024;

export interface MigrationResult {
  /** Our migrations applied by this call (0 when the schema was already current). */
  applied: number;
  total: number;
}

/**
 * Applies hopmap's migrations (drizzle-kit's files in migrations/, hand-written SQL included) and then
 * graphile-worker's schema, under one session-level advisory lock. `url` must reach the PostgreSQL server
 * itself (DATABASE_DIRECT_URL), not PgBouncer in transaction mode: that is checked before the lock is taken.
 */
export async function migrateDatabase(url: string, log: Logger): Promise<MigrationResult> {
  const pool = createPool(url, log, { max: 2, applicationName: 'hopmap-migrate', preparedStatements: true });
  try {
    await withRetry(() => assertOwnSession(pool, url, 'the migrator (its advisory lock)'), {
      log,
      what: 'database connection',
      attempts: 6,
    });
    return await withRetry(() => migrateOnce(pool, log), { log, what: 'migration', attempts: 6 });
  } finally {
    await pool.end();
  }
}

async function migrateOnce(pool: pg.Pool, log: Logger): Promise<MigrationResult> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const before = await appliedCount(client);
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_DIR });
    await runMigrations({ pgPool: pool, logger: graphileLogger(log) });
    const after = await appliedCount(client);
    const total = journalEntries();
    if (after !== total)
      throw new Error(`migrations table lists ${after} migrations but ${MIGRATIONS_DIR} has ${total}`);
    if (after > before) log.info({ applied: after - before, total }, 'database migrated');
    else log.debug({ total }, 'database schema already current');
    return { applied: after - before, total };
  } catch (err) {
    broken = true;
    throw err;
  } finally {
    if (!broken) await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    // A client that failed mid-migration is destroyed, which also releases its lock.
    client.release(broken);
  }
}

async function appliedCount(client: pg.PoolClient): Promise<number> {
  const exists = await client.query<{ t: string | null }>(`select to_regclass('drizzle.__drizzle_migrations') as t`);
  if (!exists.rows[0]?.t) return 0;
  const { rows } = await client.query<{ n: number }>('select count(*)::int as n from drizzle.__drizzle_migrations');
  return rows[0]?.n ?? 0;
}

export function journalEntries(): number {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  return journal.entries.length;
}
