/** One reading of one service's memory. */
export interface MemorySample {
  /** Seconds since the load started. */
  t: number;
  /** VmRSS from /proc/<pid>/status. */
  rssMb: number;
  /** From the service's own /metrics (prom-client): hopmap_process_resident_memory_bytes, hopmap_nodejs_heap_size_used_bytes. */
  metricsRssMb: number;
  heapMb: number;
  /** Requests the service had answered when sampled. */
  requests?: number;
}

export type MemoryKind = 'rssMb' | 'heapMb';

export interface SeriesSummary {
  start: number;
  end: number;
  max: number;
  /** Least-squares slope over the samples after the warm-up, in MB per hour. */
  slopeMbPerHour: number;
  /** Median of the last third minus the median of the second third (the first third is warm-up). */
  thirdsGrowthMb: number;
  verdict: 'flat' | 'growing';
}

/**
 * "Growing" needs both: a fitted slope above 5 MB/h after the warm-up, and the last third's median above the
 * second third's by more than the tolerance. Why 5 MB/h: 120 MB a day doubles a service of ~100 MB (what
 * input, output and manager sit at) between two daily restarts, the smallest leak worth acting on; slower
 * drifts are within what the GC's sawtooth (±2-5 MB of heap between collections) fakes in a run of an hour.
 */
export const GROWING_SLOPE_MB_PER_HOUR = 5;

/**
 * The tolerance between the medians of the second and last thirds. Heap (sampled after a forced full GC,
 * soak-gc-hook.cjs): 2 MB, where healthy services moved 0.2-0.7 MB in the short soak, while a leak of 1 MB per
 * 100 requests moves it ~5 MB (the thirds are ~500 requests apart). RSS: 10 MB, since the allocator keeps
 * and returns pages in steps of megabytes (healthy services moved up to 4.3 MB); it catches gross native
 * (Buffer) leaks, the heap catches JavaScript ones.
 */
export function thirdsTolerance(kind: MemoryKind, medianMb: number): number {
  return kind === 'heapMb' ? Math.max(2, 0.03 * medianMb) : Math.max(10, 0.05 * medianMb);
}

export function summarize(samples: MemorySample[], kind: MemoryKind): SeriesSummary {
  const values = samples.map((s) => s[kind]);
  const third = Math.floor(samples.length / 3);
  const steady = samples.slice(third);
  const second = median(samples.slice(third, 2 * third).map((s) => s[kind]));
  const last = median(samples.slice(2 * third).map((s) => s[kind]));
  const slopeMbPerHour = slope(
    steady.map((s) => s.t / 3600),
    steady.map((s) => s[kind]),
  );
  const thirdsGrowthMb = last - second;
  const growing = slopeMbPerHour > GROWING_SLOPE_MB_PER_HOUR && thirdsGrowthMb > thirdsTolerance(kind, second);
  return {
    start: steady[0]?.[kind] ?? NaN,
    end: values.at(-1) ?? NaN,
    max: Math.max(...values),
    slopeMbPerHour,
    thirdsGrowthMb,
    verdict: growing ? 'growing' : 'flat',
  };
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
