import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpGet } from '../bench/http-get.js';
import type { MemorySample } from './soak-analysis.js';

export interface SampledService {
  name: string;
  pid: number;
  /** Base URL whose /metrics is hopmap's Prometheus endpoint. */
  url: string;
}

const MB = 1024 * 1024;

/** One sample of a service: VmRSS from the kernel and the process's own view from /metrics. */
export async function sampleMemory(service: SampledService, t: number): Promise<MemorySample> {
  const [status, metrics] = await Promise.all([
    readFile(`/proc/${service.pid}/status`, 'utf8'),
    httpGet(`${service.url}/metrics`, { agent: false, timeoutMs: 10_000 }),
  ]);
  const vmRss = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (!vmRss) throw new Error(`${service.name}: no VmRSS in /proc/${service.pid}/status`);
  if (metrics.status !== 200) throw new Error(`${service.name}: GET /metrics answered ${metrics.status}`);
  return {
    t,
    rssMb: Number(vmRss) / 1024,
    metricsRssMb: metricValue(metrics.body, 'process_resident_memory_bytes') / MB,
    heapMb: metricValue(metrics.body, 'nodejs_heap_size_used_bytes') / MB,
  };
}

/** A gauge's value from Prometheus text, with or without hopmap's `hopmap_` prefix. */
export function metricValue(text: string, name: string): number {
  const m = new RegExp(`^(?:hopmap_)?${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)`, 'm').exec(text);
  if (!m) throw new Error(`no ${name} in /metrics`);
  return Number(m[1]);
}

/**
 * Asks each service for a full garbage collection (SIGUSR2, soak-gc-hook.cjs, with HOPMAP_SOAK_GC_DIR=`dir`)
 * and returns its heap right after it, in MB, by name: what is still referenced, whatever the load does next.
 */
export async function collectGarbage(
  services: Array<Pick<SampledService, 'name' | 'pid'>>,
  dir: string,
  signal: AbortSignal,
): Promise<Map<string, number>> {
  const before = new Map<string, number>();
  for (const s of services) before.set(s.name, (await readCollection(dir, s.pid))?.count ?? 0);
  for (const s of services) process.kill(s.pid, 'SIGUSR2');
  const heap = new Map<string, number>();
  // A service busy with a request collects once it is done: seconds on a loaded machine.
  const deadline = Date.now() + GC_TIMEOUT_MS;
  for (;;) {
    for (const s of services) {
      const c = heap.has(s.name) ? undefined : await readCollection(dir, s.pid);
      if (c && c.count > before.get(s.name)!) heap.set(s.name, c.heapBytes / MB);
    }
    if (heap.size === services.length) return heap;
    if (Date.now() > deadline) {
      const late = services.filter((s) => !heap.has(s.name)).map((s) => s.name);
      throw new Error(`${late.join(', ')}: no full GC within ${GC_TIMEOUT_MS / 1000} s of SIGUSR2`);
    }
    await sleep(50, undefined, { signal });
  }
}

const GC_TIMEOUT_MS = 30_000;

async function readCollection(dir: string, pid: number): Promise<{ count: number; heapBytes: number } | undefined> {
  const text = await readFile(join(dir, String(pid)), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (text === undefined) return undefined;
  const [count, heapBytes] = text.split(' ').map(Number);
  return { count: count!, heapBytes: heapBytes! };
}
