import pg from 'pg';
import type { BenchCase, Figure } from '../bench-case.js';
import { formatCount, formatMs } from '../bench-table.js';
import { BATCH } from '../ingest-batches.js';
import { HOP_TABLE_LAYOUT, JSONB_LAYOUT } from '../ingest-hop-layouts.js';
import { insertInTurns, layoutSize, timeQueries, type LayoutSize, type QueryTiming } from '../ingest-hop-measure.js';
import { TRACE_HOPS, TRACE_WORKERS, tracePath } from '../ingest-traces.js';

export const HOPS_STORAGE = 'hops-storage';
/**
 * 20,000 keeps the case near a minute on 2 cores (50,000, the figure the storage choice was made on, took 2 to
 * 6 minutes depending on load): HOPMAP_BENCH_HOPS_RESULTS=50000 for that scale.
 */
const RESULTS = resultsFromEnv(process.env.HOPMAP_BENCH_HOPS_RESULTS, 20_000);
/** Rounds of each query after the warm one; the figure is the median (3: the per-worker query takes 8 × 0.4 s a round per layout). */
const RUNS = 3;
/** "Through hop X" asks for routers this deep: 4,096 of them, so each is on ~12 of the traces, as most routers are. */
const HOP_DEPTH = 8;
const HOPS_ASKED = 16;
/** The hop table first: it is the baseline each jsonb figure is compared with. */
const LAYOUTS = [HOP_TABLE_LAYOUT, JSONB_LAYOUT];

interface Measured {
  insertMs: number;
  size: LayoutSize;
  throughHop: QueryTiming;
  workerLinks: QueryTiming;
}

/**
 * Backs keeping hops only in the result's jsonb body (migration 0005) against a separate hop table: the same
 * traceroutes (20,000 by default) stored both ways in scratch tables, then the size of each layout and the time of the
 * two queries hops serve. The scratch tables are dropped at the end.
 */
export const hopsStorage: BenchCase = {
  name: HOPS_STORAGE,
  async run(ctx) {
    const client = new pg.Client({ connectionString: ctx.db.url, application_name: 'hopmap-bench' });
    await client.connect();
    const tables = LAYOUTS.flatMap((l) => l.tables).join(', ');
    try {
      await client.query(`drop table if exists ${tables}`);
      for (const layout of LAYOUTS) for (const sql of layout.create) await client.query(sql);
      ctx.progress(`hops storage: inserting ${formatCount(RESULTS)} traceroutes both ways`);
      const insertMs = await insertInTurns(client, LAYOUTS, RESULTS, ctx.signal);
      await client.query(`vacuum analyze ${tables}`);

      ctx.progress('hops storage: sizes and queries');
      const notes: string[] = [];
      const hops = hopsAtDepth(HOP_DEPTH, HOPS_ASKED);
      for (const layout of LAYOUTS) {
        const plan = await client.query<{ 'QUERY PLAN': string }>(`explain ${layout.throughHop.sql}`, [
          layout.throughHop.param(hops[0]!),
        ]);
        if (!plan.rows.some((r) => r['QUERY PLAN'].includes(layout.hopIndex)))
          notes.push(`hops storage: WARNING the ${layout.name} query through a hop does not use ${layout.hopIndex}`);
      }
      const workers = Array.from({ length: TRACE_WORKERS }, (_, w) => `bench-w${w}`);
      const throughHop = await timeQueries(
        client,
        LAYOUTS.map((l) => ({ sql: l.throughHop.sql, params: hops.map(l.throughHop.param) })),
        RUNS,
      );
      const workerLinks = await timeQueries(
        client,
        LAYOUTS.map((l) => ({ sql: l.workerLinks, params: workers })),
        RUNS,
      );
      const measured: Measured[] = [];
      for (const [i, layout] of LAYOUTS.entries())
        measured.push({
          insertMs: insertMs[i]!,
          size: await layoutSize(client, layout),
          throughHop: throughHop[i]!,
          workerLinks: workerLinks[i]!,
        });

      const [table, jsonb] = measured as [Measured, Measured];
      if (table.throughHop.rows !== jsonb.throughHop.rows || table.workerLinks.rows !== jsonb.workerLinks.rows) {
        notes.push(
          `hops storage: WARNING the layouts disagree: ${table.throughHop.rows} vs ${jsonb.throughHop.rows} results through the hops, ${table.workerLinks.rows} vs ${jsonb.workerLinks.rows} links`,
        );
      }
      notes.unshift(
        `hops storage: the same ${formatCount(RESULTS)} traceroutes (${TRACE_HOPS} hops, 3 probes each) in scratch tables shaped like measurements.results (plus an index on worker), ` +
          `COPYed ${BATCH} per transaction over one connection, the layouts taking turns (only the database is timed), then vacuum analyze. ` +
          `Through hop X: the bodies of the results whose path went through one of ${HOPS_ASKED} routers at hop ${HOP_DEPTH}, ~${formatCount(table.throughHop.rows / HOPS_ASKED)} results each; ` +
          `links of a worker: distinct (near, far) of one worker's ~${formatCount(RESULTS / TRACE_WORKERS)} traces, ~${formatCount(table.workerLinks.rows / TRACE_WORKERS)} links. ` +
          `Each query: median of ${RUNS} rounds after a warm one, the layouts taking turns. Sizes and times: lower is better, so a ratio below 1 favours jsonb.`,
      );
      return { figures: figures(table, jsonb), notes };
    } finally {
      await client.query(`drop table if exists ${tables}`).catch(() => undefined);
      await client.end();
    }
  },
};

/** The first `n` distinct routers at hop `depth` of the traces. */
function hopsAtDepth(depth: number, n: number): string[] {
  const hops = new Set<string>();
  for (let i = 0; hops.size < n; i++) hops.add(tracePath(i).path[depth - 1]!);
  return [...hops];
}

/** Two rows per measure: the hop table's, then the jsonb layout's compared with it. */
function figures(table: Measured, jsonb: Measured): Figure[] {
  const rows: Figure[] = [];
  const pair = (
    metric: string,
    label: string,
    unit: string,
    value: (m: Measured) => number,
    details: (m: Measured) => string,
  ) => {
    rows.push({
      id: `${HOPS_STORAGE}/${metric}-hop-table`,
      label: `${label}, jsonb + hop table`,
      value: value(table),
      unit,
      details: details(table),
    });
    rows.push({
      id: `${HOPS_STORAGE}/${metric}-jsonb`,
      label: `${label}, jsonb only`,
      value: value(jsonb),
      unit,
      baseline: `${HOPS_STORAGE}/${metric}-hop-table`,
      details: details(jsonb),
    });
  };
  pair(
    'insert',
    'results/s stored',
    'results/s',
    (m) => RESULTS / (m.insertMs / 1000),
    (m) => `${formatMs(m.insertMs / (RESULTS / BATCH))} per batch of ${BATCH}`,
  );
  pair(
    'size',
    `MiB for ${formatCount(RESULTS)} traces`,
    'MiB',
    (m) => m.size.mib,
    (m) => `${m.size.byTable}; indexes ${formatCount(m.size.indexesMib)} MiB`,
  );
  pair(
    'through-hop',
    'µs, results through hop X',
    'µs',
    (m) => m.throughHop.medianMs * 1000,
    (m) => `${formatMs(m.throughHop.medianMs)} median`,
  );
  pair(
    'worker-links',
    'ms, links of a worker',
    'ms',
    (m) => m.workerLinks.medianMs,
    (m) => `${formatMs(m.workerLinks.medianMs)} median`,
  );
  return rows;
}

function resultsFromEnv(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < BATCH || n % BATCH !== 0)
    throw new Error(`HOPMAP_BENCH_HOPS_RESULTS=${value}: expected a whole multiple of ${BATCH}`);
  return n;
}
