import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type { Pool, PoolClient } from '../db/create-pool.js';
import { int8 } from '../db/int8.js';
import { findPgTool } from '../db/pg-tools.js';
import type { IngestFollowUps } from './ingest-follow-ups.js';
import { ensurePartitionsFor } from './partitions.js';
import type { Result } from './result-schema.js';
import { rewindResultsPerMinute } from './results-per-minute.js';
import { storeResults } from './store-results.js';
import { validateResult } from './validate-results.js';

export interface MergeOutcome {
  file: string;
  results: { read: number; stored: number; duplicate: number; rejected: number };
  /** Ids of results the source had already retired: kept so a late retry of them is still a duplicate. */
  retiredIds: { read: number; added: number };
  hops: { read: number; added: number };
  /** Links known only from results the source had retired (the rest are rebuilt from the results). */
  links: { read: number; added: number };
}

/** Where each table of a dump goes while merging; anything else in the dump (targets, cursors) is skipped. */
const STAGING: Array<{ match: RegExp; table: string; ddl: string }> = [
  {
    match: /^measurements\.results(_\w+)?$/,
    table: 'merge_results',
    ddl: 'create temp table merge_results (like measurements.results)',
  },
  {
    match: /^public\.result_ids$/,
    table: 'merge_result_ids',
    ddl: 'create temp table merge_result_ids (like public.result_ids)',
  },
  { match: /^public\.hops$/, table: 'merge_hops', ddl: 'create temp table merge_hops (like public.hops)' },
  { match: /^public\.links$/, table: 'merge_links', ddl: 'create temp table merge_links (like public.links)' },
];

const BATCH = 500;

/**
 * Merges a `GET /dump` archive (another deployment's, or an older one of this) into this database, safely
 * repeatable: its results go through the same path as ingest (a result id already here is skipped, links
 * and hops are derived from the new results only), so merging a dump twice, or two dumps that overlap,
 * counts nothing twice. Links and ids the source kept after retiring their results are added only where
 * unknown here. The archive is read by `pg_restore --data-only` and streamed, by COPY, into session tables.
 * `followUps` are ingest's (acks, hops, alias evidence); the dump's own hops join the pool by its `addHops`.
 */
export async function mergeDump(
  pool: Pool,
  file: string,
  followUps: IngestFollowUps,
  opts: { pgRestore?: string | undefined } = {},
): Promise<MergeOutcome> {
  const client = await pool.connect();
  try {
    await dropStaging(client);
    for (const s of STAGING) await client.query(s.ddl);
    await stageDump(client, file, opts.pgRestore);
    await client.query('create index on merge_results (received_at, id)');
    const outcome: MergeOutcome = {
      file,
      results: await mergeResults(pool, client, followUps),
      retiredIds: await countedInsert(
        client,
        'merge_result_ids',
        'insert into result_ids (id, received_at) select id, received_at from merge_result_ids on conflict do nothing',
      ),
      hops: await mergeHops(client, followUps),
      links: await countedInsert(
        client,
        'merge_links',
        `insert into links (near, far, first_seen_at, last_seen_at, count, delta_min_us, delta_max_us, delta_sum_us)
         select near, far, first_seen_at, last_seen_at, count, delta_min_us, delta_max_us, delta_sum_us from merge_links order by near, far
         on conflict (near, far) do nothing`,
      ),
    };
    return outcome;
  } finally {
    await dropStaging(client).catch(() => {});
    client.release();
  }
}

function dropStaging(client: PoolClient) {
  return client.query(`drop table if exists ${STAGING.map((s) => s.table).join(', ')}`);
}

/** Runs pg_restore and copies the rows of the tables we merge into the session's staging tables. */
async function stageDump(client: PoolClient, file: string, pgRestore: string | undefined): Promise<void> {
  const tool = await findPgTool('pg_restore', { explicit: pgRestore });
  const child = spawn(tool.path, ['--data-only', '--file=-', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4_000)));
  const exited = once(child, 'close') as Promise<[number | null]>;
  let copy: { stream: NodeJS.WritableStream; done: Promise<unknown> } | undefined;
  let pending: string[] = [];
  const flush = async () => {
    if (copy && pending.length) {
      const ok = copy.stream.write(pending.join(''));
      pending = [];
      if (!ok) await Promise.race([once(copy.stream, 'drain'), copy.done]);
    }
  };
  const open = (stream: NodeJS.WritableStream) => {
    const done = once(stream, 'finish');
    done.catch(() => {}); // awaited when the block ends; a COPY error also surfaces there
    return { stream, done };
  };
  try {
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      if (copy) {
        if (line === '\\.') {
          await flush();
          copy.stream.end();
          await copy.done;
          copy = undefined;
        } else {
          pending.push(line, '\n');
          if (pending.length >= 2_000) await flush();
        }
        continue;
      }
      const header = /^COPY (\S+) \(([^)]*)\) FROM stdin;$/.exec(line);
      if (!header) continue;
      const staging = STAGING.find((s) => s.match.test(header[1]!));
      if (!staging) {
        copy = open(devNull());
        continue;
      }
      if (!/^[\w", ]+$/.test(header[2]!)) throw new Error(`${file}: unexpected column list in '${line}'`);
      copy = open(client.query(copyFrom(`COPY ${staging.table} (${header[2]}) FROM STDIN`)));
    }
  } catch (err) {
    child.kill('SIGTERM');
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
  const [code] = await exited;
  if (code !== 0)
    throw new Error(`${file}: pg_restore (${tool.path}, ${tool.version}) exited with ${code}: ${stderr.trim()}`);
  if (copy) throw new Error(`${file}: the dump ended inside a COPY block (truncated?)`);
}

/** A sink for the rows of tables the merge skips. */
function devNull(): NodeJS.WritableStream {
  return new Writable({ write: (_chunk, _enc, done) => done() });
}

async function mergeResults(
  pool: Pool,
  client: PoolClient,
  followUps: IngestFollowUps,
): Promise<MergeOutcome['results']> {
  const totals = { read: 0, stored: 0, duplicate: 0, rejected: 0 };
  let after: { at: string; id: string } | undefined;
  for (;;) {
    const { rows } = await client.query<{ id: string; at: string; day: string; body: unknown }>(
      `select id, received_at::text as at, to_char(received_at at time zone 'UTC', 'YYYY-MM-DD') as day, body
         from merge_results where ($1::timestamptz is null or (received_at, id) > ($1::timestamptz, $2::uuid))
        order by received_at, id limit ${BATCH}`,
      [after?.at ?? null, after?.id ?? null],
    );
    if (rows.length === 0) return totals;
    after = { at: rows.at(-1)!.at, id: rows.at(-1)!.id };
    totals.read += rows.length;
    const batch: Result[] = [];
    const receivedAt = new Map<string, string>();
    for (const [i, row] of rows.entries()) {
      const v = validateResult(row.body, i);
      if (!v.ok || v.result.id !== row.id) {
        totals.rejected++;
        continue;
      }
      batch.push(v.result);
      receivedAt.set(row.id, row.at);
    }
    await ensurePartitionsFor(
      pool,
      rows.map((r) => r.day),
    );
    const out = await storeResults(pool, batch, followUps, { receivedAt });
    if (out.accepted > 0) await rewindResultsPerMinute(pool, rows[0]!.at); // they keep their received_at: recount those minutes
    totals.stored += out.accepted;
    totals.duplicate += out.duplicate;
  }
}

async function mergeHops(client: PoolClient, followUps: IngestFollowUps): Promise<MergeOutcome['hops']> {
  const totals = { read: 0, added: 0 };
  for (let last = -1; ;) {
    const { rows } = await client.query<{ id: string; address: string }>(
      `select id::text, host(address) as address from merge_hops where id > $1 order by id limit 5000`,
      [last],
    );
    if (rows.length === 0) return totals;
    last = int8(rows.at(-1)!.id);
    totals.read += rows.length;
    totals.added += (
      await followUps.addHops(
        client,
        rows.map((r) => r.address),
      )
    ).added;
  }
}

async function countedInsert(
  client: PoolClient,
  staging: string,
  sql: string,
): Promise<{ read: number; added: number }> {
  const read = await client.query<{ n: number }>(`select count(*)::int as n from ${staging}`);
  const ins = await client.query(sql);
  return { read: read.rows[0]!.n, added: ins.rowCount ?? 0 };
}
