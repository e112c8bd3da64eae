import pg from 'pg';
import type { BenchCase, BenchContext, Figure } from '../bench-case.js';
import { formatCount, loopDetails } from '../bench-table.js';
import { BATCH, TraceBatches } from '../ingest-batches.js';
import { runCopyLoad } from '../ingest-copy.js';
import { benchKeyHeaders } from '../bench-keys.js';
import { runIngestLoad } from '../ingest-load.js';
import { startOutputInstance, type OutputInstance } from '../ingest-output-instances.js';
import { TRACE_HOPS } from '../ingest-traces.js';
import type { LoopResult } from '../measure-loop.js';

export const INGEST_HTTP = 'ingest-http';
/** Batches in flight at once, for the HTTP senders and the COPY clients alike. */
const SENDERS = 4;
const COPY_ID = `${INGEST_HTTP}/copy-${SENDERS}-clients`;

/**
 * Traceroute results stored per second through POST /results of real `hopmap output` processes (1, then 2
 * on the same database), beside raw COPY of the same rows into the same tables, measured first.
 */
export const ingestHttp: BenchCase = {
  name: INGEST_HTTP,
  async run(ctx) {
    const batches = new TraceBatches();
    const figures: Figure[] = [];
    const notes: string[] = [
      `ingest: ${SENDERS} senders each loop a batch of ${BATCH} traceroutes (${TRACE_HOPS} hops, 3 probes each, ~3.5 KB of JSON per result, fresh ids) ` +
        `through POST /results, alternating between instances when there are 2; raw COPY: ${SENDERS} connections each loop one transaction per batch ` +
        `that COPYs the ids into result_ids and the rows into measurements.results (no de-duplication, links or hops). Tables emptied before each figure.`,
    ];

    await resetResultTables(ctx.db.url);
    ctx.progress(`ingest: raw COPY, ${SENDERS} clients, ${ctx.seconds} s`);
    const copy = await withCpu(() => runCopyLoad({ url: ctx.db.url, clients: SENDERS, batches, ...loopWindow(ctx) }));
    figures.push(figure(COPY_ID, `results/s, raw COPY, ${SENDERS} clients`, copy.result, copy.cores, 'tx'));
    if (copy.result.ops === 0) notes.push(tooSlowNote('raw COPY', ctx));
    if (copy.result.errors)
      notes.push(
        `ingest raw COPY: ${formatCount(copy.result.errors)} failed transactions, e.g. ${copy.result.errorSamples.join(' | ')}`,
      );

    for (const count of [1, 2]) {
      const label = `results/s, HTTP POST, ${count} instance${count > 1 ? 's' : ''}`;
      await resetResultTables(ctx.db.url);
      ctx.progress(`${label}: starting`);
      const instances = await startInstances(ctx, count);
      const headers = await benchKeyHeaders(ctx.db.url, 'worker');
      try {
        ctx.progress(`${label}: ${SENDERS} senders, ${ctx.seconds} s`);
        const m = await withCpu(() =>
          runIngestLoad({ urls: instances.map((i) => i.url), senders: SENDERS, batches, headers, ...loopWindow(ctx) }),
        );
        figures.push({
          ...figure(`${INGEST_HTTP}/${count}-instance${count > 1 ? 's' : ''}`, label, m.result, m.cores, 'req'),
          baseline: COPY_ID,
        });
        if (m.result.ops === 0) notes.push(tooSlowNote(label, ctx));
        if (m.result.errors)
          notes.push(
            `${label}: ${formatCount(m.result.errors)} failed requests, e.g. ${m.result.errorSamples.join(' | ')}`,
          );
      } finally {
        await Promise.all(instances.map((i) => i.stop()));
      }
      for (const i of instances)
        if (i.log.warnings + i.log.errors)
          notes.push(
            `${label}: ${i.name} logged ${i.log.errors} errors and ${i.log.warnings} warnings: ${i.log.samples.join(' | ')}`,
          );
    }
    await resetResultTables(ctx.db.url);
    return { figures, notes };
  },
};

const loopWindow = (ctx: BenchContext) => ({
  warmupMs: ctx.warmupSeconds * 1000,
  durationMs: ctx.seconds * 1000,
  signal: ctx.signal,
});

function figure(id: string, label: string, r: LoopResult, cores: number, op: string): Figure {
  return {
    id,
    label,
    value: r.itemsPerSecond,
    unit: 'results/s',
    details: `${loopDetails(r, op)}, bench process ${cores.toFixed(2)} cores`,
    data: { ...r, senders: SENDERS, batch: BATCH, benchProcessCores: cores },
  };
}

/** The load and the CPU the bench process spent on it meanwhile (in cores), since it shares the machine with what it measures. */
async function withCpu<T>(load: () => Promise<T>): Promise<{ result: T; cores: number }> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const result = await load();
  const used = process.cpuUsage(cpu);
  return { result, cores: (used.user + used.system) / 1000 / (performance.now() - t0) };
}

async function startInstances(ctx: BenchContext, count: number): Promise<OutputInstance[]> {
  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
      startOutputInstance({ name: `bench-output-${i + 1}`, databaseUrl: ctx.db.url, signal: ctx.signal }),
    ),
  );
  const instances = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(instances.map((i) => i.stop()));
    throw failed.reason;
  }
  return instances;
}

/** Everything an ingest writes, so each figure starts from empty tables; and today's partitions, as the output service makes sure at start. */
async function resetResultTables(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'hopmap-bench' });
  await client.connect();
  try {
    await client.query('truncate measurements.results, result_ids, links, hops');
    await client.query('select measurements.ensure_partitions(2)');
  } finally {
    await client.end();
  }
}

/** A batch of 500 takes 1.5 s or more when the machine is loaded; a window shorter than a batch counts none. */
const tooSlowNote = (what: string, ctx: BenchContext) =>
  `${what}: WARNING no batch finished inside the ${ctx.seconds} s window (each took longer than warm-up + window: the machine is loaded); the 0 is not a rate. Use --seconds 20 --warmup 5.`;
