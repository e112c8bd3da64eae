import { createHash } from 'node:crypto';
import { RESULT_FORMAT } from '../src/results/result-schema.js';

/** How big a map `seed-map.ts` makes. */
export interface MapScale {
  links: number;
  ases: number;
  workers: number;
  /** Traceroutes per route over the window; with `hopObservations` this sets the number of routes. */
  tracesPerRoute: number;
  /** Answering hops inside stored traceroutes (a 12-hop trace holds 12): what a deployment piles up. */
  hopObservations: number;
  days: number;
}

/** Fits a few minutes of seeding on 2 cores, so `npm run bench` stays short (issue 9). */
export const DEFAULT_MAP_SCALE: MapScale = {
  links: 1_000_000,
  ases: 1_000,
  workers: 10,
  tracesPerRoute: 6,
  hopObservations: 2_000_000,
  days: 7,
};
/** What the issue asks for: 1,000,000 links and 50,000,000 hop observations. */
export const FULL_MAP_SCALE: MapScale = { ...DEFAULT_MAP_SCALE, workers: 20, hopObservations: 50_000_000 };

/**
 * HOPMAP_BENCH_MAP=full for the scale; HOPMAP_BENCH_MAP_LINKS and HOPMAP_BENCH_MAP_HOPS override the
 * number of links and of hop observations (run-bench.ts has no per-case flags).
 */
export function mapScaleFromEnv(env: NodeJS.ProcessEnv = process.env): MapScale {
  const base = env.HOPMAP_BENCH_MAP === 'full' ? FULL_MAP_SCALE : DEFAULT_MAP_SCALE;
  const count = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw.replaceAll('_', ''));
    if (!Number.isInteger(n) || n < 1_000 || n > 1_000_000_000)
      throw new Error(`${name}=${raw}: expected a whole number from 1,000 to 1,000,000,000`);
    return n;
  };
  if (env.HOPMAP_BENCH_MAP !== undefined && !['full', 'default', ''].includes(env.HOPMAP_BENCH_MAP))
    throw new Error(`HOPMAP_BENCH_MAP=${env.HOPMAP_BENCH_MAP}: expected full or default`);
  return {
    ...base,
    links: count('HOPMAP_BENCH_MAP_LINKS', base.links),
    hopObservations: count('HOPMAP_BENCH_MAP_HOPS', base.hopObservations),
  };
}

const TREE_BASE = 11 << 24; // 11.0.0.0: interface i is 11.0.0.0 + i
const GATEWAY_BASE = 12 << 24; // 12.0.0.0: worker w's first hop
export const FIRST_ASN = 64_512;
const DAY_MS = 86_400_000;
/** Interfaces per address range; a block's links lead into 4 other blocks, ~4,000 AS adjacencies at 1M links. */
export const AS_BLOCK = 256;

export const ipOf = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
export const interfaceAddress = (i: number) => ipOf(TREE_BASE + i);
export const gatewayAddress = (w: number) => ipOf(GATEWAY_BASE + w);
export const workerName = (w: number) => `bench-w${w}`;
const parent = (i: number) => Math.floor((i - 1) / 4);

/**
 * The synthetic internet: interfaces form a 4-ary tree (interface i links to 4i+1..4i+4), numbered level by
 * level, so with a million links the leaves are 9 to 10 links from the root, and ASes own blocks of 256
 * interfaces scattered over the space (a block's links lead into 4 other blocks: ~4,000 AS adjacencies for
 * 1,000 ASes and a million links, as in test/map/map-api-scale.test.ts). Each worker reaches the root through its own gateway. A route is
 * (worker, leaf target); it is traced `tracesPerRoute` times over the window and changes path 0 to 2 times,
 * between its full path and the same path with one TTL silent, so `links` stays what the traces show.
 */
export class MapTopology {
  readonly nodes: number;
  readonly leafStart: number;
  readonly routes: number;
  readonly targets: number;
  readonly windowStart: number;
  readonly windowMs: number;

  constructor(
    readonly scale: MapScale,
    readonly endMs: number,
    /** 12 hex digits in every result id of this seeding. */
    readonly salt: string,
  ) {
    if (scale.tracesPerRoute < 3) throw new Error('a route needs 3 traces or more: up to 3 spans');
    this.nodes = scale.links - scale.workers + 1;
    this.leafStart = Math.floor((this.nodes - 2) / 4) + 1;
    const avgHops = 2 + Math.log(this.nodes * 0.75) / Math.log(4); // gateway + depth + the root
    this.routes = Math.max(scale.workers, Math.round(scale.hopObservations / (scale.tracesPerRoute * avgHops)));
    this.targets = Math.ceil(this.routes / scale.workers);
    if (this.targets > this.nodes - this.leafStart)
      throw new Error(
        `${this.routes} routes need more leaves than ${this.nodes - this.leafStart}: raise the links or lower the hop observations`,
      );
    this.windowMs = scale.days * DAY_MS;
    this.windowStart = endMs - this.windowMs;
  }

  /** Interfaces come in blocks of AS_BLOCK, each block in a pseudo-random AS: an AS holds ranges all over. */
  asnOf(i: number): number {
    return FIRST_ASN + ((Math.imul(Math.floor(i / AS_BLOCK) + 1, 0x9e3779b1) >>> 0) % this.scale.ases);
  }

  /** How many address blocks (asn_ranges rows) the interfaces fill. */
  get blocks(): number {
    return Math.ceil(this.nodes / AS_BLOCK);
  }

  workerOf(r: number): number {
    return r % this.scale.workers;
  }

  targetOf(r: number): number {
    const t = Math.floor(r / this.scale.workers);
    return this.leafStart + Math.floor((t * (this.nodes - this.leafStart)) / this.targets);
  }

  /** Interfaces from the root down to the route's target, after the worker's gateway. */
  treePath(r: number): number[] {
    const path: number[] = [];
    for (let i = this.targetOf(r); i > 0; i = parent(i)) path.push(i);
    path.push(0);
    return path.reverse();
  }

  /** Hops per TTL from 1: variant 0 answers everywhere, variant 1 has one silent TTL (never the first or last). */
  hops(r: number, variant: number): string[][] {
    const hops = [[gatewayAddress(this.workerOf(r))], ...this.treePath(r).map((i) => [interfaceAddress(i)])];
    if (variant === 1) hops[this.silentIndex(r, hops.length)] = [];
    return hops;
  }

  silentIndex(r: number, length: number): number {
    return 1 + (r % (length - 2));
  }

  spansOf(r: number): number {
    return 1 + (r % 3);
  }

  /** Ids of the route's spans are firstSpanId(r) .. firstSpanId(r) + spansOf(r) - 1 (1, 2, 3 spans in turn). */
  firstSpanId(r: number): number {
    return Math.floor(r / 3) * 6 + [0, 1, 3][r % 3]! + 1;
  }

  pathId(r: number, variant: number): number {
    return 2 * r + variant + 1;
  }

  /** Span `s` of the route takes traces k with floor(k * spans / P) = s. */
  spanTraces(r: number, s: number): { first: number; last: number } {
    const spans = this.spansOf(r);
    const p = this.scale.tracesPerRoute;
    return { first: Math.ceil((s * p) / spans), last: Math.ceil(((s + 1) * p) / spans) - 1 };
  }

  spanOfTrace(r: number, k: number): number {
    return Math.floor((k * this.spansOf(r)) / this.scale.tracesPerRoute);
  }

  /** When trace k of route r was measured: evenly over the window, routes offset from one another. */
  traceTime(r: number, k: number): number {
    return this.windowStart + Math.floor(((k + (r % 997) / 997) * this.windowMs) / this.scale.tracesPerRoute);
  }

  resultId(r: number, k: number): string {
    return `${(r >>> 0).toString(16).padStart(8, '0')}-${(k & 0xffff).toString(16).padStart(4, '0')}-4000-8000-${this.salt}`;
  }

  /** The stored body of trace k of route r, shaped like test/support/result-factory.ts traceResult. */
  traceBody(r: number, k: number): { body: string; answered: number; at: string } {
    const variant = this.spanOfTrace(r, k) % 2;
    const hops = this.hops(r, variant);
    const target = hops.at(-1)![0]!;
    const t = this.traceTime(r, k);
    const started = new Date(t).toISOString();
    const finished = new Date(t + 900).toISOString();
    let answered = 0;
    const hopJson = hops.map((h, i) => {
      const from = h[0];
      if (!from) return `{"ttl":${i + 1},"probes":[null,null,null]}`;
      answered++;
      const type = from === target ? 0 : 11;
      const base = 400 + 900 * i + (r % 300);
      const probe = (k2: number) =>
        `{"from":"${from}","rtt_us":${base + 17 * k2},"icmp_type":${type},"icmp_code":0,"reply_ttl":${64 - i}}`;
      return `{"ttl":${i + 1},"probes":[${probe(0)},${probe(1)},${probe(2)}]}`;
    });
    const body =
      `{"format":"${RESULT_FORMAT}","id":"${this.resultId(r, k)}","type":"traceroute","worker":"${workerName(this.workerOf(r))}","lease":null,` +
      `"target":"${target}","started_at":"${started}","finished_at":"${finished}","method":"icmp-paris","flow":4242,"reached":true,"stop":"reached",` +
      `"probes_sent":${hops.length * 3},"hops":[${hopJson.join(',')}]}`;
    return { body, answered, at: started };
  }
}

/** As src/results/route-paths.ts pathHash: md5 of [reached, hops, silentTtls] as a uuid. */
export function pathHashOf(hops: string[][], reached: boolean): string {
  const hex = createHash('md5')
    .update(JSON.stringify([reached, hops, []]))
    .digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
