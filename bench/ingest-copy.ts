import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Result } from '../src/results/result-schema.js';
import { BATCH, type TraceBatches } from './ingest-batches.js';
import { measureLoop, type LoopResult } from './measure-loop.js';

/** COPY into `table` of the columns the output service inserts, from rows made by resultCopyRow. */
export const copyResultsSql = (table: string) =>
  `copy ${table} (id, measured_at, type, worker, target, lease, body) from stdin`;
const COPY_IDS = 'copy result_ids (id) from stdin';
const COPY_RESULTS = copyResultsSql('measurements.results');

/** One result as a COPY text row of those columns, as store-results.ts fills them. */
export function resultCopyRow(r: Result): string {
  return `${r.id}\t${r.started_at}\t${r.type}\t${r.worker}\t${r.target}\t${r.lease ?? '\\N'}\t${copyText(JSON.stringify(r))}\n`;
}

/** COPY text format: a backslash is the escape character (JSON has no raw tabs or newlines). */
const copyText = (s: string) => s.replaceAll('\\', '\\\\');

export async function copyIn(client: pg.Client, sql: string, text: string): Promise<void> {
  await pipeline(Readable.from([text]), client.query(copyFrom(sql)));
}

/**
 * The floor for storing results: `clients` connections each looping one transaction per batch of 500 that
 * COPYs the ids into result_ids and the rows into measurements.results, the same columns the output
 * service inserts, and nothing else (no de-duplication, links or hops).
 */
export async function runCopyLoad(opts: {
  url: string;
  clients: number;
  batches: TraceBatches;
  warmupMs: number;
  durationMs: number;
  signal: AbortSignal;
}): Promise<LoopResult> {
  const clients = await Promise.all(
    Array.from({ length: opts.clients }, async () => {
      const client = new pg.Client({ connectionString: opts.url, application_name: 'hopmap-bench' });
      await client.connect();
      return client;
    }),
  );
  try {
    return await measureLoop(
      { workers: opts.clients, warmupMs: opts.warmupMs, durationMs: opts.durationMs, signal: opts.signal },
      async (w) => {
        const client = clients[w]!;
        const { results, ids } = opts.batches.nextCopy();
        await client.query('begin');
        try {
          await copyIn(client, COPY_IDS, ids);
          await copyIn(client, COPY_RESULTS, results);
          await client.query('commit');
        } catch (err) {
          await client.query('rollback').catch(() => undefined);
          throw err;
        }
        return BATCH;
      },
    );
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}
