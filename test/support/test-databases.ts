import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULT_EMBEDDED_PORT, embeddedCluster, ensureEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { freePort, portIsFree } from './throwaway-postgres.js';
import { MIGRATIONS_DIR, migrateDatabase } from '../../src/db/migrate.js';
import { createLogger } from '../../src/log/create-logger.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { assertDeclared } from './needs.js';

/** Only databases whose name starts so may be created or dropped by tests. */
export const TEST_DB_PREFIX = 'hopmap_test_';
const TEMPLATE_PREFIX = `${TEST_DB_PREFIX}template_`;
const SETUP_LOCK_KEY = 727_101_2025;

export const quietLog = createLogger({
  level: process.env.TEST_LOG_LEVEL === undefined ? 'silent' : (process.env.TEST_LOG_LEVEL as 'debug'),
  pretty: false,
});

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The migrated template's name changes whenever a migration changes, so a stale template is never cloned. */
function templateName(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS_DIR, { recursive: true }).map(String).sort()) {
    if (file.endsWith('.sql') || file.endsWith('.json'))
      hash.update(file).update(readFileSync(join(MIGRATIONS_DIR, file)));
  }
  hash.update(readFileSync(join(PROJECT_ROOT, 'node_modules/graphile-worker/package.json')));
  return `${TEMPLATE_PREFIX}${hash.digest('hex').slice(0, 12)}`;
}

export function assertTestDatabaseName(name: string): void {
  if (!name.startsWith(TEST_DB_PREFIX) || !/^[a-z0-9_]+$/.test(name)) {
    throw new Error(`refusing to touch database '${name}': test databases are named ${TEST_DB_PREFIX}*`);
  }
}

export interface TestSetup {
  adminUrl: string;
  template: string;
  /** True when this call started the embedded PostgreSQL. */
  startedEmbedded: boolean;
  stopEmbedded: () => Promise<void>;
}

/**
 * The server every test file uses: DATABASE_URL when set, else the embedded PostgreSQL; plus a migrated
 * template database that each file clones. Idempotent and safe to run from several processes at once.
 */
export async function prepareTestServer(server?: string): Promise<TestSetup> {
  let adminUrl = server ?? process.env.HOPMAP_TEST_ADMIN_URL ?? process.env.DATABASE_URL;
  let stopEmbedded = async () => {};
  let startedEmbedded = false;
  if (!adminUrl) {
    const stateDir = join(PROJECT_ROOT, '.hopmap');
    const embedded = await ensureEmbeddedPostgres({ stateDir, port: await embeddedTestPort(stateDir), log: quietLog });
    adminUrl = embedded.url;
    startedEmbedded = embedded.startedHere;
    stopEmbedded = async () => void (await embedded.release());
  }
  const template = process.env.HOPMAP_TEST_TEMPLATE ?? templateName();
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  try {
    await admin.query('select pg_advisory_lock($1)', [SETUP_LOCK_KEY]);
    const exists = await admin.query('select 1 from pg_database where datname = $1', [template]);
    if (!exists.rowCount) {
      const building = `${template}_build`;
      await admin.query(`drop database if exists ${building} with (force)`);
      await admin.query(`create database ${building} template template0`);
      await migrateDatabase(withDatabase(adminUrl, building), quietLog);
      await admin.query(`alter database ${building} rename to ${template}`);
      await admin.query(`alter database ${template} with is_template true`);
    }
  } finally {
    await admin.query('select pg_advisory_unlock($1)', [SETUP_LOCK_KEY]).catch(() => {});
    await admin.end();
  }
  return { adminUrl, template, startedEmbedded, stopEmbedded };
}

/**
 * The default embedded port, unless something else (another checkout's server) holds it while ours is
 * stopped: then any free port, so a second checkout on the machine can still run its tests.
 */
async function embeddedTestPort(stateDir: string): Promise<number> {
  if (process.env.HOPMAP_EMBEDDED_PORT) return Number(process.env.HOPMAP_EMBEDDED_PORT);
  if (await embeddedCluster(stateDir).isRunning()) return DEFAULT_EMBEDDED_PORT;
  return (await portIsFree(DEFAULT_EMBEDDED_PORT)) ? DEFAULT_EMBEDDED_PORT : freePort();
}

/** Drops test databases left by crashed runs and templates of older migrations. Run before a whole suite only. */
export async function dropLeftoverTestDatabases(adminUrl: string, keep: string): Promise<string[]> {
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  try {
    // datconnlimit -2 marks a database whose drop was interrupted: it can only be dropped, not altered.
    const all = await admin.query<{ datname: string; invalid: boolean }>(
      `select datname, datconnlimit = -2 as invalid from pg_database where datname like 'hopmap\\_test\\_%' and datname <> $1`,
      [keep],
    );
    // A database of a run that is still going (another `npm test` on the same server) stays, and so do the
    // templates while any other run is alive: it may be cloning one of an older migration set.
    const otherRunAlive = all.rows.some((r) => runnerAlive(r.datname));
    const rows = all.rows.filter(
      (r) => !runnerAlive(r.datname) && !(otherRunAlive && r.datname.startsWith(TEMPLATE_PREFIX)),
    );
    for (const { datname, invalid } of rows) {
      assertTestDatabaseName(datname);
      if (!invalid) await admin.query(`alter database ${datname} with is_template false`);
      await admin.query(`drop database if exists ${datname} with (force)`);
    }
    return rows.map((r) => r.datname);
  } finally {
    await admin.end();
  }
}

/** The `npm test` run a test database belongs to (its name carries the pid), so concurrent runs spare each other's. */
const RUNNER_PID = Number(process.env.HOPMAP_TEST_RUNNER_PID ?? process.pid);

function runnerAlive(datname: string): boolean {
  const pid = /_(\d+)_[0-9a-f]{8}$/.exec(datname)?.[1];
  if (!pid) return false;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  adminUrl: string;
  drop(): Promise<void>;
}

/**
 * A fresh database for one test file, cloned from the migrated template (or empty, for migration tests), on
 * the suite's server or on `server` (an admin URL) for a test that needs a particular PostgreSQL.
 */
export async function createTestDatabase(
  label: string,
  opts: { empty?: boolean; server?: string } = {},
): Promise<TestDatabase> {
  assertDeclared('database', 'createTestDatabase');
  const setup = await prepareTestServer(opts.server);
  const slug = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '')
    .slice(0, 30);
  const name = `${TEST_DB_PREFIX}${slug}_${RUNNER_PID}_${randomBytes(4).toString('hex')}`;
  assertTestDatabaseName(name);
  const admin = new pg.Client(setup.adminUrl);
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${opts.empty ? 'template0' : setup.template}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(setup.adminUrl, name),
    adminUrl: setup.adminUrl,
    drop: () => dropTestDatabase(setup.adminUrl, name),
  };
}

export async function dropTestDatabase(adminUrl: string, name: string): Promise<void> {
  assertTestDatabaseName(name);
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}
