import { spawn } from 'node:child_process';
import type { Express } from 'express';
import type { Pool } from '../db/create-pool.js';
import { findPgTool, libpqConnection, PgToolError, serverMajor } from '../db/pg-tools.js';
import { HttpError } from '../http/http-error.js';
import type { Logger } from '../log/create-logger.js';

/**
 * What a dump holds: every table of the map (results, result ids, hops, links, targets and the rest of
 * `public` and `measurements`), the migration history, and the manager's tables empty. Left out: every row
 * of the `manager` schema (operators, sessions, API keys, certificates, ACME, rate limits, dy.fi state,
 * registered services: the deployment's secrets, never the map), the job queue (graphile-worker recreates
 * its schema) and the registry of running instances. The manager's tables keep their definitions, so a
 * restored database, whose history says migration 0016 ran, is a whole hopmap database; `manager.*` also
 * matches their sequences and any table added there later (docs/security.md#what-a-dump-holds).
 */
export const DUMP_ARGS = [
  '--format=custom',
  '--exclude-schema=graphile_worker',
  '--exclude-table-data=manager.*',
  '--exclude-table-data=public.service_instances',
];

export interface DumpDeps {
  pool: Pool;
  databaseUrl: string;
  log: Logger;
  /** An explicit pg_dump; by default the newest on the machine. */
  pgDump?: string | undefined;
}

/**
 * GET /dump: a `pg_dump --format=custom` of hopmap's data, streamed as pg_dump writes it (one consistent
 * snapshot, any size). A failure before the first byte is an ordinary error answer; one after it aborts
 * the response, so a client never mistakes a truncated dump for a whole one.
 */
export function dumpRoute(app: Express, deps: DumpDeps): void {
  app.get('/dump', async (req, res) => {
    let tool;
    try {
      tool = await findPgTool('pg_dump', { minMajor: await serverMajor(deps.pool), explicit: deps.pgDump });
    } catch (err) {
      if (err instanceof PgToolError) throw new HttpError(503, 'pg_dump_unavailable', err.message);
      throw err;
    }
    const { dbname, env } = libpqConnection(deps.databaseUrl);
    const child = spawn(tool.path, [...DUMP_ARGS, `--dbname=${dbname}`], {
      env: { ...env, PGAPPNAME: 'hopmap-dump' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4_000)));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    child.on('error', () => {}); // spawn failures also end in 'close'
    req.on('close', () => {
      if (!res.writableFinished) child.kill('SIGTERM');
    });

    const first = await new Promise<Buffer | null>((resolve) => {
      child.stdout.once('data', (chunk: Buffer) => {
        child.stdout.pause(); // before the stream emits the next chunk to no listener
        resolve(chunk);
      });
      child.stdout.once('end', () => resolve(null));
    });
    if (!first) {
      const code = await exited;
      throw new HttpError(500, 'dump_failed', `pg_dump exited with ${code}: ${stderr.trim() || 'no output'}`);
    }
    const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
    res.status(200).set({
      'content-type': 'application/vnd.postgresql.custom-dump',
      'content-disposition': `attachment; filename="hopmap-${stamp}Z.dump"`,
      'x-pg-dump-version': tool.version,
    });
    res.write(first);
    child.stdout.pipe(res, { end: false });
    const code = await exited;
    if (code === 0) {
      res.end();
      deps.log.info({ pgDump: tool.path }, 'dump streamed');
    } else {
      deps.log.error({ code, stderr: stderr.trim() }, 'pg_dump failed mid-stream; aborting the response');
      res.destroy(new Error(`pg_dump exited with ${code}`));
    }
  });
}
