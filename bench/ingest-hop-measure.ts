import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { formatCount } from './bench-table.js';
import { BATCH } from './ingest-batches.js';
import { copyIn } from './ingest-copy.js';
import type { HopLayout } from './ingest-hop-layouts.js';
import { traceBatch } from './ingest-traces.js';

const MIB = 2 ** 20;

export interface LayoutSize {
  mib: number;
  indexesMib: number;
  /** "table 54 MiB + table 71 MiB" */
  byTable: string;
}

export interface QueryTiming {
  medianMs: number;
  /** Rows the first round returned over all parameters, to check that the layouts answer alike. */
  rows: number;
}

/**
 * Stores the same `count` traceroutes in every layout, batch by batch, each batch in one transaction; returns
 * the milliseconds each layout spent. Only the database is timed: the COPY text is built before the clock
 * starts. The layouts take turns, and swap who goes first, so checkpoints and a busy machine fall on all.
 */
export async function insertInTurns(
  client: pg.Client,
  layouts: HopLayout[],
  count: number,
  signal: AbortSignal,
): Promise<number[]> {
  const ms = layouts.map(() => 0);
  for (let b = 0; b < count / BATCH; b++) {
    signal.throwIfAborted();
    const batch = traceBatch(b * BATCH, BATCH);
    const order = layouts.map((_, i) => i);
    if (b % 2) order.reverse();
    for (const i of order) {
      const copies = layouts[i]!.inserts(batch);
      const t0 = performance.now();
      await client.query('begin');
      for (const copy of copies) await copyIn(client, copy.sql, copy.text);
      await client.query('commit');
      ms[i]! += performance.now() - t0;
    }
  }
  return ms;
}

/** Tables with their TOAST and indexes (pg_total_relation_size). */
export async function layoutSize(client: pg.Client, layout: HopLayout): Promise<LayoutSize> {
  const { rows } = await client.query<{ name: string; total: string; indexes: string }>(
    'select t as name, pg_total_relation_size(t::regclass) as total, pg_indexes_size(t::regclass) as indexes from unnest($1::text[]) t',
    [layout.tables],
  );
  return {
    mib: rows.reduce((n, r) => n + Number(r.total), 0) / MIB,
    indexesMib: rows.reduce((n, r) => n + Number(r.indexes), 0) / MIB,
    byTable: rows.map((r) => `${r.name} ${formatCount(Number(r.total) / MIB)} MiB`).join(' + '),
  };
}

/**
 * Each query with each parameter once to warm the cache, then `runs` rounds in which the queries take turns
 * on each parameter, so a busy moment of the machine falls on all; the median time of one query of each.
 */
export async function timeQueries(
  client: pg.Client,
  queries: Array<{ sql: string; params: string[] }>,
  runs: number,
): Promise<QueryTiming[]> {
  const rows = queries.map(() => 0);
  const times = queries.map((): number[] => []);
  for (const [q, { sql, params }] of queries.entries())
    for (const p of params) rows[q]! += (await client.query(sql, [p])).rowCount ?? 0;
  for (let run = 0; run < runs; run++) {
    for (let i = 0; i < queries[0]!.params.length; i++) {
      for (const [q, { sql, params }] of queries.entries()) {
        const t0 = performance.now();
        await client.query(sql, [params[i]]);
        times[q]!.push(performance.now() - t0);
      }
    }
  }
  return times.map((t, q) => ({ medianMs: t.sort((a, b) => a - b)[Math.floor(t.length / 2)]!, rows: rows[q]! }));
}
