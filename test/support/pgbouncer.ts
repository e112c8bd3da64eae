import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../src/http/free-port.js';
import { assertDeclared } from './needs.js';
import { spawnNode, type Spawned } from './spawn-process.js';

export interface PgBouncerOptions {
  /** The PostgreSQL server behind it (any database; its host, port, user and password are used). */
  serverUrl: string;
  /** Server connections per database and user: small, so that clients really share them. */
  poolSize?: number;
  poolMode?: 'transaction' | 'session' | 'statement';
}

export interface RunningPgBouncer {
  port: number;
  /** A client URL for `database` through the pooler. */
  url(database: string): string;
  /** Runs one admin-console command (`SHOW STATS`, `SHOW POOLS`) and returns its rows. */
  admin<T = Record<string, unknown>>(command: string): Promise<T[]>;
  output(): string;
  stop(): Promise<void>;
}

const USER = 'postgres';
/** Debian installs it under /usr/sbin, which a non-root PATH often lacks. */
export const PGBOUNCER = existsSync('/usr/sbin/pgbouncer') ? '/usr/sbin/pgbouncer' : 'pgbouncer';

/**
 * Starts Debian's pgbouncer as a child process, with a generated ini in a temp dir, on a free loopback port,
 * routing every database name to the same name on `serverUrl`'s server. Clients log in without a password
 * (auth_type trust, loopback only); pgbouncer logs in to the server with the URL's password.
 */
export async function startPgBouncer(opts: PgBouncerOptions): Promise<RunningPgBouncer> {
  assertDeclared('pgbouncer', 'startPgBouncer');
  const server = new URL(opts.serverUrl);
  const dir = mkdtempSync(join(tmpdir(), 'hopmap-pgbouncer-'));
  chmodSync(dir, 0o755); // pgbouncer refuses to run as root: it drops to `nobody` then, and must still read its files
  const port = await freePort();
  const backend = [
    `host=${server.hostname}`,
    `port=${server.port || 5432}`,
    `user=${decodeURIComponent(server.username) || USER}`,
    ...(server.password ? [`password='${decodeURIComponent(server.password).replace(/'/g, "\\'")}'`] : []),
  ].join(' ');
  const ini = join(dir, 'pgbouncer.ini');
  writeFileSync(
    ini,
    [
      '[databases]',
      `* = ${backend}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      `admin_users = ${USER}`,
      `stats_users = ${USER}`,
      `pool_mode = ${opts.poolMode ?? 'transaction'}`,
      `default_pool_size = ${opts.poolSize ?? 3}`,
      'max_client_conn = 500',
      // A client that waits this long for a server connection gets an error instead of hanging the test.
      'query_wait_timeout = 30',
      'ignore_startup_parameters = extra_float_digits',
      'stats_period = 1',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  writeFileSync(join(dir, 'userlist.txt'), `"${USER}" ""\n`, { mode: 0o644 });
  const asRoot = process.getuid?.() === 0;
  const proc: Spawned = spawnNode([], {}, [PGBOUNCER, ...(asRoot ? ['-u', 'nobody'] : []), ini]);
  try {
    await proc.waitFor(/listening on 127\.0\.0\.1:\d+/, 15_000);
  } catch (err) {
    proc.child.kill('SIGKILL');
    await proc.exited;
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const url = (database: string) => `postgres://${USER}@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    output: proc.output,
    async admin<T>(command: string): Promise<T[]> {
      // The admin console speaks only the simple query protocol, which pg uses for a query without parameters.
      const client = new pg.Client(url('pgbouncer'));
      await client.connect();
      try {
        return (await client.query(command)).rows as T[];
      } finally {
        await client.end();
      }
    },
    async stop() {
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
      await proc.exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
