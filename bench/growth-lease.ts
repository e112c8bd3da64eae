import type { BenchContext, Figure } from './bench-case.js';
import { formatCount, loopDetails } from './bench-table.js';
import { fillQueue, dropQueue, LEASE_SQL } from './cases/raw-sql-lease.js';
import { seedTargets, withClient } from './growth-seed.js';
import { TARGET_BATCH } from './input-throughput.js';
import { measureLoop } from './measure-loop.js';
import { startServiceInstance } from './service-instances.js';
import { benchKeyHeaders } from './bench-keys.js';
import { runTargetLoad } from './target-load.js';

/** "1e5" for 100,000: short, stable figure ids. */
export const sizeLabel = (n: number): string => `1e${Math.round(Math.log10(n))}`;

/**
 * Lease rate with `n` targets: first the raw SQL lease over a queue of `n` rows (1 client; a drained queue is
 * reset in one update, the raw counterpart of a pass ending), then one real `hopmap input` serving `n`
 * single-address blocks to ctx.consumers consumers over HTTP (a consumer whose pass ends goes on under a new id).
 */
export async function measureLeaseGrowth(
  ctx: BenchContext,
  caseName: string,
  n: number,
): Promise<{ figures: Figure[]; notes: string[] }> {
  const size = sizeLabel(n);
  const notes: string[] = [];
  ctx.progress(`growth: raw SQL lease over ${formatCount(n)} rows`);
  await fillQueue(ctx.db.url, n);
  const raw = await withClient(ctx.db.url, async (c) => {
    let resets = 0;
    const result = await measureLoop(
      { workers: 1, warmupMs: ctx.warmupSeconds * 1000, durationMs: ctx.seconds * 1000, signal: ctx.signal },
      async () => {
        const { rowCount } = await c.query(LEASE_SQL, ['bench-growth']);
        if (!rowCount) {
          resets++;
          await c.query('update bench_queue set leased_at = null, leased_by = null where leased_at is not null');
        }
        return rowCount ?? 0;
      },
    );
    return { result, resets };
  });
  await dropQueue(ctx.db.url);
  const rawId = `${caseName}/lease-raw-${size}`;
  const figures: Figure[] = [
    {
      id: rawId,
      label: `rows leased/s, raw SQL, 1 client, ${formatCount(n)} rows`,
      value: raw.result.itemsPerSecond,
      unit: 'rows/s',
      details: `${loopDetails(raw.result, 'tx')}${raw.resets ? `, queue reset ${raw.resets}×` : ''}`,
      data: { ...raw.result, rows: n, resets: raw.resets },
    },
  ];

  ctx.progress(`growth: ${formatCount(n)} targets (/32 blocks) for hopmap input`);
  const seeded = await seedTargets(ctx.db.url, n);
  notes.push(
    `growth: ${formatCount(n)} targets seeded in ${seeded.seconds.toFixed(1)} s, target_blocks ${formatCount(seeded.bytes / 2 ** 20)} MiB`,
  );
  const input = await startServiceInstance('input', [], {
    name: 'bench-growth-input',
    databaseUrl: ctx.db.url,
    signal: ctx.signal,
  });
  try {
    ctx.progress(`growth: GET /targets with ${formatCount(n)} targets, ${ctx.consumers} consumers, ${ctx.seconds} s`);
    const r = await runTargetLoad({
      urls: [input.url],
      consumers: ctx.consumers,
      batch: TARGET_BATCH,
      consumerPrefix: `growth-${size}`,
      headers: await benchKeyHeaders(ctx.db.url, 'worker'),
      warmupMs: ctx.warmupSeconds * 1000,
      durationMs: ctx.seconds * 1000,
      signal: ctx.signal,
    });
    figures.push({
      id: `${caseName}/lease-http-${size}`,
      label: `targets/s, HTTP, 1 instance, ${formatCount(n)} targets`,
      value: r.itemsPerSecond,
      unit: 'targets/s',
      baseline: rawId,
      details: `${loopDetails(r, 'req')}${r.passesEnded ? `, ${r.passesEnded} passes ended` : ''}`,
      data: { ...r, targets: n, consumers: ctx.consumers, batch: TARGET_BATCH },
    });
    if (r.errors)
      notes.push(`growth lease ${size}: ${formatCount(r.errors)} failed requests, e.g. ${r.errorSamples.join(' | ')}`);
  } finally {
    await input.stop();
  }
  if (input.log.errors + input.log.warnings)
    notes.push(
      `growth lease ${size}: input logged ${input.log.errors} errors, ${input.log.warnings} warnings: ${input.log.samples.join(' | ')}`,
    );
  return { figures, notes };
}
