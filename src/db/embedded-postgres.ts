import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
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
  /** True when this process started the server. */
  startedHere: boolean;
  /**
   * This process is done with the server. The last user out stops a server that a hopmap process started
   * for itself, so a bench, soak or test run that started it never stops it under another still using it.
   * Resolves true when it stopped the server.
   */
  release(): Promise<boolean>;
  /** Leave the server running after its users are gone, as `hopmap db url` asks ('hopmap db stop' stops it). */
  keep(): Promise<void>;
}

/**
 * The default database when DATABASE_URL is unset: a PostgreSQL cluster under `<stateDir>/postgres`,
 * initialised once and reused across runs. Several processes may ask at once; a lock directory makes
 * one of them initialise and start it while the others wait and then attach.
 */
export async function ensureEmbeddedPostgres(opts: {
  stateDir: string;
  port?: number;
  log: Logger;
}): Promise<EmbeddedDatabase> {
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
      opts.log.info(
        { dataDir: cluster.dataDir, port: cluster.port, log: cluster.logFile },
        'embedded PostgreSQL started',
      );
    }
    const files = sharedUseFiles(opts.stateDir);
    if (startedHere) await writeFile(files.autostarted, `${process.pid}\n`);
    const user = join(files.users, `${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(files.users, { recursive: true });
    await writeFile(user, '');
    await ensureDatabase(cluster.url('postgres'), EMBEDDED_DATABASE);
    let released = false;
    return {
      url: cluster.url(EMBEDDED_DATABASE),
      cluster,
      startedHere,
      keep: () => rm(files.autostarted, { force: true }),
      release: async () => {
        if (released) return false;
        released = true;
        await acquireLock(lock);
        try {
          await rm(user, { force: true });
          if ((await liveUsers(files.users)) > 0 || !(await exists(files.autostarted))) return false;
          await rm(files.autostarted, { force: true });
          if (!(await cluster.isRunning())) return false;
          await cluster.stop();
          opts.log.info({ dataDir: cluster.dataDir }, 'embedded PostgreSQL stopped: its last user is done');
          return true;
        } finally {
          await rm(lock, { recursive: true, force: true });
        }
      },
    };
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/**
 * Who uses the embedded server: one empty file per attached use, named by pid, so a process that died
 * without releasing is not counted; and a marker saying a hopmap process started it for itself.
 */
function sharedUseFiles(stateDir: string) {
  return { users: join(stateDir, 'postgres.users'), autostarted: join(stateDir, 'postgres.autostarted') };
}

async function liveUsers(dir: string): Promise<number> {
  let live = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(name.split('-')[0]);
    if (pidAlive(pid)) live++;
    else await rm(join(dir, name), { force: true });
  }
  return live;
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

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
      const age = await stat(path).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > 120_000) await rm(path, { recursive: true, force: true });
      else if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${path}; remove it if no other hopmap process is starting the database`);
      else await sleep(100);
    }
  }
}
