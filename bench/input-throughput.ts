import pg from 'pg';
import type { BenchContext, Figure } from './bench-case.js';
import { formatCount, loopDetails } from './bench-table.js';
import { startInputInstance, type InputInstance } from './service-instances.js';
import { benchKeyHeaders } from './bench-keys.js';
import { runTargetLoad } from './target-load.js';

/** GET /targets?n= of every request: the batch the ping worker asks for. */
export const TARGET_BATCH = 100;

/** What every HTTP figure measures, for the footer. */
export const httpMethodNote = (ctx: BenchContext): string =>
  `HTTP figures: real \`hopmap input\` child processes on the same database, targets imported at their start; ${ctx.consumers} consumers ` +
  `(distinct X-Consumer-Id, keep-alive) each loop GET /targets?n=${TARGET_BATCH}, alternating between instances when there are 2. ` +
  `The load generator runs in the bench process on the same machine. 1 instance is compared with 1 raw client, 2 instances with 4.`;

export interface InputThroughputOptions {
  id: string;
  label: string;
  /** Target file or directory given to `hopmap input --targets`. */
  targets: string;
  instances: number;
  baseline: string;
}

/**
 * Targets served per second by `instances` real `hopmap input` processes on the bench database, under
 * ctx.consumers concurrent consumers. Starts from empty target tables, so the instances import the
 * targets at start as in production, and every figure sees the same state whatever ran before it.
 */
export async function measureInputThroughput(
  ctx: BenchContext,
  opts: InputThroughputOptions,
): Promise<{ figure: Figure; notes: string[] }> {
  await resetTargetTables(ctx.db.url);
  ctx.progress(`${opts.label}: starting ${opts.instances} instance${opts.instances > 1 ? 's' : ''}`);
  const instances: InputInstance[] = [];
  try {
    const started = await Promise.allSettled(
      Array.from({ length: opts.instances }, (_, i) =>
        startInputInstance({
          name: `bench-input-${i + 1}`,
          databaseUrl: ctx.db.url,
          targets: opts.targets,
          signal: ctx.signal,
        }),
      ),
    );
    for (const s of started) if (s.status === 'fulfilled') instances.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;

    ctx.progress(`${opts.label}: ${ctx.consumers} consumers, ${ctx.seconds} s`);
    const result = await runTargetLoad({
      urls: instances.map((i) => i.url),
      consumers: ctx.consumers,
      batch: TARGET_BATCH,
      consumerPrefix: opts.id.replace(/[^A-Za-z0-9._-]/g, '-'),
      headers: await benchKeyHeaders(ctx.db.url, 'worker'),
      warmupMs: ctx.warmupSeconds * 1000,
      durationMs: ctx.seconds * 1000,
      signal: ctx.signal,
    });
    await Promise.all(instances.map((i) => i.stop()));

    const notes: string[] = [];
    if (result.errorSamples.length > 0)
      notes.push(
        `${opts.label}: ${formatCount(result.errors)} failed requests, e.g. ${result.errorSamples.join(' | ')}`,
      );
    if (result.passesEnded > 0)
      notes.push(`${opts.label}: ${result.passesEnded} consumer passes ran out and went on under new consumer ids`);
    for (const i of instances) {
      if (i.log.warnings + i.log.errors > 0) {
        notes.push(
          `${opts.label}: ${i.name} logged ${i.log.errors} errors and ${i.log.warnings} warnings: ${i.log.samples.join(' | ')}`,
        );
      }
    }
    return {
      figure: {
        id: opts.id,
        label: opts.label,
        value: result.itemsPerSecond,
        unit: 'targets/s',
        baseline: opts.baseline,
        details: `${loopDetails(result, 'req')}${result.passesEnded ? `, ${result.passesEnded} passes ended` : ''}`,
        data: {
          ...result,
          instances: opts.instances,
          consumers: ctx.consumers,
          batch: TARGET_BATCH,
          serviceLog: instances.map((i) => ({
            name: i.name,
            warnings: i.log.warnings,
            errors: i.log.errors,
            samples: i.log.samples,
          })),
        },
      },
      notes,
    };
  } finally {
    await Promise.all(instances.map((i) => i.stop()));
  }
}

/** Everything `hopmap input` keeps about targets and consumers; the do-not-probe list stays (it is empty here). */
async function resetTargetTables(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'hopmap-bench' });
  await client.connect();
  try {
    await client.query(
      'truncate target_sources, target_blocks, hops, consumers, consumer_blocks, leases restart identity cascade',
    );
  } finally {
    await client.end();
  }
}

/**
 * The two figures every HTTP leasing case reports: 1 instance against the 1-client raw SQL loop, and
 * 2 instances against the 4-client loop, with `targets` loaded.
 */
export async function measureOneAndTwoInstances(
  ctx: BenchContext,
  opts: { caseName: string; variant: string; targets: string; rawSqlLease: string },
): Promise<{ figures: Figure[]; notes: string[] }> {
  const figures: Figure[] = [];
  const notes: string[] = [];
  for (const [instances, baseline] of [
    [1, `${opts.rawSqlLease}/1-client`],
    [2, `${opts.rawSqlLease}/4-clients`],
  ] as const) {
    const plural = instances > 1 ? 's' : '';
    const m = await measureInputThroughput(ctx, {
      id: `${opts.caseName}/${instances}-instance${plural}`,
      label: `targets/s, HTTP, ${instances} instance${plural}, ${opts.variant}`,
      targets: opts.targets,
      instances,
      baseline,
    });
    figures.push(m.figure);
    notes.push(...m.notes);
  }
  return { figures, notes };
}
