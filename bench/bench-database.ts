import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { redactUrl } from '../src/db/create-pool.js';
import { DEFAULT_EMBEDDED_PORT, ensureEmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { migrateDatabase } from '../src/db/migrate.js';
import type { Logger } from '../src/log/create-logger.js';
import type { Lifecycle } from '../src/process/lifecycle.js';
import { PROJECT_ROOT } from '../src/version.js';

/** The only databases the bench creates or drops. */
const BENCH_DB_NAME = /^hopmap_bench_[a-z0-9]+$/;

export interface BenchDatabase {
  name: string;
  url: string;
  /** Where the server came from, for the header. */
  server: string;
}

export interface MachineInfo {
  cpus: string;
  memory: string;
  node: string;
  postgres: string;
  server: string;
  settings: string;
}

/**
 * A fresh, migrated database for this run on the server hopmap would use (DATABASE_URL, else the embedded
 * PostgreSQL in .hopmap/). Dropping it, and stopping the embedded server when this run started it, is
 * registered on `cleanup` as soon as each exists, so a failure or Ctrl-C at any step leaves nothing behind.
 */
export async function createBenchDatabase(log: Logger, cleanup: Lifecycle): Promise<BenchDatabase> {
  let adminUrl = process.env.DATABASE_URL;
  let server = `DATABASE_URL (${adminUrl ? redactUrl(adminUrl) : ''})`;
  if (!adminUrl) {
    const port = Number(process.env.HOPMAP_EMBEDDED_PORT ?? DEFAULT_EMBEDDED_PORT);
    const embedded = await ensureEmbeddedPostgres({
      stateDir: process.env.HOPMAP_STATE_DIR ?? join(PROJECT_ROOT, '.hopmap'),
      port,
      log,
    });
    cleanup.onShutdown('embedded PostgreSQL', async () => void (await embedded.release()));
    adminUrl = embedded.url;
    server = `embedded PostgreSQL, 127.0.0.1:${port}${embedded.startedHere ? ', started for this run' : ', already running'}`;
  }

  const name = `hopmap_bench_${randomBytes(5).toString('hex')}`;
  await adminQuery(adminUrl, `create database ${name}`);
  cleanup.onShutdown(`drop database ${name}`, () => dropBenchDatabase(adminUrl, name));
  const url = withDatabase(adminUrl, name);
  await migrateDatabase(url, log);
  return { name, url, server };
}

async function dropBenchDatabase(adminUrl: string, name: string): Promise<void> {
  if (!BENCH_DB_NAME.test(name))
    throw new Error(`refusing to drop database '${name}': bench databases are named hopmap_bench_*`);
  await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl, application_name: 'hopmap-bench' });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Cores, memory, node and the server's version and the settings that move lease throughput most. */
export async function describeMachine(db: BenchDatabase): Promise<MachineInfo> {
  const client = new pg.Client({ connectionString: db.url, application_name: 'hopmap-bench' });
  await client.connect();
  try {
    const { rows } = await client.query<{ version: string; settings: string }>(
      `select version(),
              (select string_agg(name || '=' || current_setting(name), ', ' order by name) from pg_settings
                where name in ('shared_buffers', 'synchronous_commit', 'fsync', 'max_connections')) as settings`,
    );
    const cores = cpus();
    return {
      cpus: `${cores.length} × ${cores[0]?.model.trim() ?? 'unknown CPU'}`,
      memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
      node: process.version,
      postgres: rows[0]!.version.replace(/ on .*/, ''),
      server: db.server,
      settings: rows[0]!.settings,
    };
  } finally {
    await client.end();
  }
}
