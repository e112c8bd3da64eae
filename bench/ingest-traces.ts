import { randomUUID } from 'node:crypto';
import { RESULT_FORMAT, type TracerouteResult } from '../src/results/result-schema.js';

/** Hops per trace: 11 routers, then the target. */
export const TRACE_HOPS = 12;
/** Workers the traces are spread over; each has its own first hop (its gateway). */
export const TRACE_WORKERS = 8;
/** The most routers at one depth: the tree fans out 4-fold per hop until it has this many, from hop 7 on. */
const ROUTERS_PER_DEPTH = 4096;

const ROUTERS_BASE = ipv4ToInt('198.18.0.0');
const TARGETS_BASE = ipv4ToInt('198.19.0.0');

/**
 * The path of trace `i` (RFC 2544 benchmark space only): the worker's gateway in 198.18.0.0/16, then a tree
 * keyed on the target (depth k has min(4^(k-1), 4096) routers, so paths share their first hops and fan out),
 * then the target in 198.19.0.0/16. About 22,000 routers and 87,000 links in all (65,536 of them from the
 * last router to a target), so a batch of 500 traces meets known and new hops and links alike.
 */
export function tracePath(i: number): { worker: string; target: string; path: string[] } {
  const w = i % TRACE_WORKERS;
  const t = Math.imul(i, 40503) & 0xffff; // an odd multiplier walks all 65,536 targets in a scrambled order
  const path = [intToIpv4(ROUTERS_BASE + 1 + w)];
  for (let depth = 2; depth < TRACE_HOPS; depth++) {
    const routers = Math.min(4 ** (depth - 1), ROUTERS_PER_DEPTH);
    path.push(intToIpv4(ROUTERS_BASE + (depth - 1) * ROUTERS_PER_DEPTH + (t % routers)));
  }
  const target = intToIpv4(TARGETS_BASE + t);
  path.push(target);
  return { worker: `bench-w${w}`, target, path };
}

/** Trace `i` as a worker posts it (the shape of test/support/result-factory's traceResult): icmp-paris, 3 probes per hop, all answered. */
export function traceResult(i: number, now = Date.now()): TracerouteResult {
  const { worker, target, path } = tracePath(i);
  const jitter = (i * 37) % 400;
  return {
    format: RESULT_FORMAT,
    id: randomUUID(),
    type: 'traceroute',
    worker,
    lease: null,
    target,
    started_at: new Date(now - 2_000).toISOString(),
    finished_at: new Date(now).toISOString(),
    method: 'icmp-paris',
    flow: i & 0xffff,
    reached: true,
    stop: 'reached',
    probes_sent: path.length * 3,
    hops: path.map((from, h) => ({
      ttl: h + 1,
      probes: [0, 1, 2].map((k) => ({
        from,
        rtt_us: 800 * (h + 1) + jitter + 17 * k + 0.5,
        icmp_type: from === target ? 0 : 11,
        icmp_code: 0,
        reply_ttl: 64 - h,
      })),
    })),
  };
}

/** `n` traces from index `first` on, each with a fresh id. */
export function traceBatch(first: number, n: number): TracerouteResult[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, k) => traceResult(first + k, now));
}

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function intToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
