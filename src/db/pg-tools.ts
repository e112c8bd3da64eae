import { execFile } from 'node:child_process';
import { access, readdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type PgToolName = 'pg_dump' | 'pg_restore';

export interface PgTool {
  path: string;
  major: number;
  version: string;
}

/** No usable pg_dump / pg_restore: says which were found and what was needed. */
export class PgToolError extends Error {
  override name = 'PgToolError';
}

/**
 * Finds the newest `pg_dump` or `pg_restore` on the machine (PATH, then Debian's and the PGDG RPMs' versioned
 * directories), or the one given explicitly. pg_dump refuses servers newer than itself and pg_restore archives
 * newer than itself, so `minMajor` is the server's (or archive's) major version and a too-old tool is an error
 * that names what it found, not a half-written dump.
 */
export async function findPgTool(
  name: PgToolName,
  opts: { minMajor?: number; explicit?: string | undefined } = {},
): Promise<PgTool> {
  const candidates = opts.explicit ? [opts.explicit] : await candidatePaths(name);
  const found: PgTool[] = [];
  for (const path of candidates) {
    const tool = await probe(path);
    if (tool) found.push(tool);
  }
  found.sort((a, b) => b.major - a.major);
  const best = found[0];
  const need = opts.minMajor ? ` ${opts.minMajor} or newer` : '';
  if (!best) {
    throw new PgToolError(
      opts.explicit
        ? `${opts.explicit} is not a working ${name}`
        : `no ${name}${need} found (looked in PATH and /usr/lib/postgresql/*/bin); install the PostgreSQL client tools (Debian: postgresql-client) or give its path`,
    );
  }
  if (opts.minMajor && best.major < opts.minMajor) {
    const seen = found.map((t) => `${t.path} (${t.major})`).join(', ');
    throw new PgToolError(
      `${name}${need} is needed, found only ${seen}; install the PostgreSQL ${opts.minMajor} client tools or give the path of a newer ${name}`,
    );
  }
  return best;
}

async function candidatePaths(name: PgToolName): Promise<string[]> {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const root of ['/usr/lib/postgresql', '/usr/pgsql']) {
    const entries = await readdir(root).catch(() => [] as string[]);
    dirs.push(...entries.map((e) => join(root, e, 'bin')));
  }
  for (const e of await readdir('/usr').catch(() => [] as string[]))
    if (e.startsWith('pgsql-')) dirs.push(join('/usr', e, 'bin'));
  const paths: string[] = [];
  for (const dir of new Set(dirs)) {
    const path = join(dir, name);
    if (
      await access(path).then(
        () => true,
        () => false,
      )
    )
      paths.push(path);
  }
  return paths;
}

async function probe(path: string): Promise<PgTool | undefined> {
  try {
    const { stdout } = await run(path, ['--version'], { timeout: 10_000 });
    const m = /\(PostgreSQL\)\s+((\d+)[.\w]*)/.exec(stdout);
    return m ? { path, major: Number(m[2]), version: m[1]! } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How to hand a database URL to a libpq tool: the URL without its password as `--dbname`, the password in
 * PGPASSWORD, so it never shows in the process list.
 */
export function libpqConnection(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.PGPASSWORD;
  if (password) env.PGPASSWORD = password;
  return { dbname: u.toString(), env };
}

/** The server's major version (15, 16, ...), as pg_dump compares it. */
export async function serverMajor(pool: {
  query(sql: string): Promise<{ rows: Array<{ v: number }> }>;
}): Promise<number> {
  const { rows } = await pool.query("select current_setting('server_version_num')::int / 10000 as v");
  return rows[0]!.v;
}
