import { readFile } from 'node:fs/promises';
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
