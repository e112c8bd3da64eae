import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from '../log/create-logger.js';
import { LocalCluster } from './local-cluster.js';

export const DEFAULT_EMBEDDED_PORT = 54329;
/** hopmap's data lives in its own database, not in the cluster's maintenance database `postgres`. */
export const EMBEDDED_DATABASE = 'hopmap';

export interface EmbeddedDatabase {
  url: string;
  cluster: LocalCluster;
  /** True when this process started the server, and so should stop it when it is done. */
  startedHere: boolean;
}

/**
 * The default database when DATABASE_URL is unset: a PostgreSQL cluster under `<stateDir>/postgres`,
 * initialised once and reused across runs. Several processes may ask at once; a lock directory makes
 * one of them initialise and start it while the others wait and then attach.
 */
export async function ensureEmbeddedPostgres(opts: { stateDir: string; port?: number; log: Logger }): Promise<EmbeddedDatabase> {
  const cluster = embeddedCluster(opts.stateDir, opts.port);
  const lock = join(opts.stateDir, 'postgres.lock');
  await mkdir(opts.stateDir, { recursive: true });
  await acquireLock(lock);
  try {
    if (!cluster.isInitialised()) {
      opts.log.info({ dataDir: cluster.dataDir }, 'initialising embedded PostgreSQL (first run)');
      await cluster.init();
    }
    let startedHere = false;
    if (!(await cluster.isRunning())) {
      await cluster.start();
      startedHere = true;
      opts.log.info({ dataDir: cluster.dataDir, port: cluster.port, log: cluster.logFile }, 'embedded PostgreSQL started');
    }
    await ensureDatabase(cluster.url('postgres'), EMBEDDED_DATABASE);
    return { url: cluster.url(EMBEDDED_DATABASE), cluster, startedHere };
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

export function embeddedCluster(stateDir: string, port = DEFAULT_EMBEDDED_PORT): LocalCluster {
  return new LocalCluster({ baseDir: join(stateDir, 'postgres'), port });
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client(adminUrl);
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
}

/** mkdir is atomic: whoever creates the directory holds the lock. A lock older than two minutes is stale. */
async function acquireLock(path: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(path);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > 120_000) await rm(path, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}; remove it if no other hopmap process is starting the database`);
      else await sleep(100);
    }
  }
}
