import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LoopOptions {
  workers: number;
  warmupMs: number;
  durationMs: number;
  signal: AbortSignal;
}

export interface LoopResult {
  /** Items (rows, targets) that operations finishing inside the measured window returned. */
  items: number;
  ops: number;
  seconds: number;
  itemsPerSecond: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  errorSamples: string[];
}

/**
 * Runs `op` in a loop on each of `workers` concurrent workers, first for the warm-up and then for the
 * measured window. An operation counts when it finishes inside the window, so the ones straddling either
 * edge roughly cancel out. A failing operation is counted as an error and retried after a short pause.
 */
export async function measureLoop(opts: LoopOptions, op: (worker: number) => Promise<number>): Promise<LoopResult> {
  const start = performance.now();
  const windowStart = start + opts.warmupMs;
  const windowEnd = windowStart + opts.durationMs;
  let items = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const latencies: number[] = [];

  const worker = async (w: number) => {
    while (!opts.signal.aborted) {
      const t0 = performance.now();
      if (t0 >= windowEnd) return;
      try {
        const n = await op(w);
        const t1 = performance.now();
        if (t1 >= windowStart && t1 < windowEnd) {
          items += n;
          latencies.push(t1 - t0);
        }
      } catch (err) {
        if (opts.signal.aborted) return;
        errors++;
        const message = (err as Error).message;
        if (errorSamples.length < 5 && !errorSamples.includes(message)) errorSamples.push(message);
        await sleep(20);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.workers }, (_, w) => worker(w)));
  opts.signal.throwIfAborted();

  const seconds = opts.durationMs / 1000;
  latencies.sort((a, b) => a - b);
  return {
    items,
    ops: latencies.length,
    seconds,
    itemsPerSecond: items / seconds,
    opsPerSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    errors,
    errorSamples,
  };
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
