import http from 'node:http';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createLogger } from '../../src/log/create-logger.js';
import { asOfAddresses } from '../../src/map/graph/address-info.js';
import { asGraph, asPairsAggregated } from '../../src/map/graph/as-graph.js';
import { interfaceLinksPage, nodesOfLinks, type LinkCursor } from '../../src/map/graph/interface-graph.js';
import { encodeLinkCursor } from '../../src/map/api/map-query-schemas.js';
import { routePathsAt } from '../../src/results/route-history.js';
import type { BenchCase, BenchContext, Figure } from '../bench-case.js';
import { formatCount, formatMs } from '../bench-table.js';
import { httpGet } from '../http-get.js';
import { startSignedInManager } from '../map-manager.js';
import { interfaceAddress, mapScaleFromEnv, workerName, type MapTopology } from '../map-topology.js';
import { seedMap, type SeedReport } from '../seed-map.js';

export const MAP_API = 'map-api';
const PAGE = 10_000;
/** The seeded tables, emptied before (other cases share the database) and after (its size). */
const SEEDED =
  'links, address_info, asn_ranges, paths, route_spans, route_current, route_changes, result_ids, measurements.results';

export interface Timing {
  p50: number;
  p95: number;
  runs: number;
}

/**
 * The map API at scale (issue 8): seeds a map by COPY (bench/seed-map.ts; HOPMAP_BENCH_MAP=full for 50 million
 * hop observations), then times, one request at a time from a signed-in session against the manager in this
 * process, the whole AS graph, a path query for random (worker, target, at), and a 10,000-link interface page
 * from a random cursor. Each figure's baseline is the same query functions called in this process on a plain
 * pg pool (the SQL and node-pg, without HTTP, session, rate limit and JSON); the AS graph is also timed the
 * way it was computed before as_links, over every link.
 */
export const mapApi: BenchCase = {
  name: MAP_API,
  async run(ctx) {
    const scale = mapScaleFromEnv();
    const pool = new pg.Pool({ connectionString: ctx.db.url, max: 2, application_name: 'hopmap-bench' });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const notes: string[] = [];
    try {
      await pool.query(`truncate ${SEEDED}`);
      await pool.query('select as_links_rebuild()');
      const seed = await seedMap(ctx.db.url, scale, { signal: ctx.signal, progress: ctx.progress });
      notes.push(...seedNotes(seed));

      const { manager, cookie } = await startSignedInManager(
        ctx.db.url,
        createLogger({ level: 'error', pretty: false }),
      );
      try {
        const get = async (path: string): Promise<string> => {
          const res = await httpGet(`${manager.url}${path}`, { agent, headers: { cookie }, timeoutMs: 120_000 });
          if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.body.slice(0, 200)}`);
          return res.body;
        };
        const figures = await measure(ctx, seed.topology, pool, get, notes);
        return { figures, notes };
      } finally {
        await manager.stop();
      }
    } finally {
      agent.destroy();
      await pool.query(`truncate ${SEEDED}`).catch(() => undefined);
      await pool.query('select as_links_rebuild()').catch(() => undefined);
      await pool.end();
    }
  },
};

async function measure(
  ctx: BenchContext,
  topo: MapTopology,
  pool: pg.Pool,
  get: (path: string) => Promise<string>,
  notes: string[],
): Promise<Figure[]> {
  const figures: Figure[] = [];
  const add = (id: string, label: string, unit: 'ms' | 'µs', t: Timing, baseline?: string) =>
    figures.push({
      id: `${MAP_API}/${id}`,
      label,
      value: unit === 'ms' ? t.p50 : t.p50 * 1000,
      unit,
      ...(baseline ? { baseline: `${MAP_API}/${baseline}` } : {}),
      details: `p50 ${formatMs(t.p50)}, p95 ${formatMs(t.p95)}, ${t.runs} runs`,
      data: { ...t },
    });
  const rnd = random(42);

  ctx.progress('map api: whole AS graph');
  let pairs = 0;
  add(
    'as-graph-sql',
    'ms p50, whole AS graph, as_links, SQL in-process',
    'ms',
    await timeRuns(ctx, 5, async () => void (pairs = (await asGraph(pool, {})).links.length)),
  );
  let httpPairs = 0;
  add(
    'as-graph-http',
    'ms p50, whole AS graph, GET /api/map/graph?level=as',
    'ms',
    await timeRuns(
      ctx,
      5,
      async () => void (httpPairs = JSON.parse(await get('/api/map/graph?level=as')).links.length),
    ),
    'as-graph-sql',
  );
  let directPairs = 0;
  add(
    'as-graph-direct-sql',
    'ms p50, whole AS graph aggregated over all links (before as_links), SQL',
    'ms',
    await timeRuns(ctx, 3, async () => void (directPairs = (await asPairsAggregated(pool, {})).length)),
    'as-graph-sql',
  );
  // A `since` that keeps every link still forces the aggregation over links: what a filtered AS graph costs.
  const since = encodeURIComponent(new Date(topo.windowStart - 86_400_000).toISOString());
  add(
    'as-graph-direct-http',
    'ms p50, AS graph with a time filter (aggregated), HTTP',
    'ms',
    await timeRuns(ctx, 3, async () => void JSON.parse(await get(`/api/map/graph?level=as&since=${since}`))),
    'as-graph-direct-sql',
  );
  if (pairs !== httpPairs || directPairs < pairs)
    notes.push(
      `map api: WARNING the AS graphs disagree: ${pairs} AS links from as_links, ${httpPairs} over HTTP, ${directPairs} AS pairs aggregated`,
    );

  ctx.progress('map api: path queries');
  const routeAt = () => {
    const r = Math.floor(rnd() * topo.routes);
    const at = new Date(topo.windowStart + topo.windowMs * (1 / 7 + (6 / 7) * rnd())).toISOString();
    return { worker: workerName(topo.workerOf(r)), target: interfaceAddress(topo.targetOf(r)), at };
  };
  const paths = Array.from({ length: 512 }, routeAt);
  let i = 0;
  let empty = 0;
  add(
    'path-sql',
    'µs p50, path of a route at a time, SQL in-process',
    'µs',
    await timeRuns(ctx, 20, async () => {
      const q = paths[i++ % paths.length]!;
      const spans = await routePathsAt(pool, q.worker, q.target, q.at);
      await asOfAddresses(pool, [...new Set(spans.flatMap((s) => s.hops.flat()))]);
    }),
  );
  i = 0;
  add(
    'path-http',
    'µs p50, GET /api/map/path?worker=&target=&at=',
    'µs',
    await timeRuns(ctx, 20, async () => {
      const q = paths[i++ % paths.length]!;
      if (
        JSON.parse(await get(`/api/map/path?worker=${q.worker}&target=${q.target}&at=${encodeURIComponent(q.at)}`))
          .routes.length === 0
      )
        empty++;
    }),
    'path-sql',
  );
  if (empty > 0)
    notes.push(`map api: ${empty} path queries found no route (a random time before the route's first trace)`);

  ctx.progress('map api: interface pages');
  const cursors: LinkCursor[] = Array.from({ length: 64 }, () => {
    const c = 1 + Math.floor(rnd() * (topo.nodes - 1 - PAGE));
    return { near: interfaceAddress(Math.floor((c - 1) / 4)), far: interfaceAddress(c) };
  });
  i = 0;
  add(
    'page-sql',
    'ms p50, 10,000-link interface page, SQL in-process',
    'ms',
    await timeRuns(ctx, 5, async () => {
      const links = await interfaceLinksPage(pool, {}, PAGE, cursors[i++ % cursors.length]);
      await asOfAddresses(
        pool,
        nodesOfLinks(links).map((n) => n.address),
      );
    }),
  );
  i = 0;
  add(
    'page-http',
    'ms p50, GET /api/map/graph?limit=10000&cursor=',
    'ms',
    await timeRuns(ctx, 5, async () => {
      const body = JSON.parse(
        await get(`/api/map/graph?limit=${PAGE}&cursor=${encodeLinkCursor(cursors[i++ % cursors.length]!)}`),
      );
      if (body.links.length !== PAGE) throw new Error(`a page of ${body.links.length} links`);
    }),
    'page-sql',
  );

  notes.push(
    `map api: one request at a time over a keep-alive connection to the manager in this process, signed in; baselines call the endpoint's own query functions on a plain pg pool in this process. ` +
      `Warm-up ${ctx.warmupSeconds} s, then at least ${ctx.seconds} s (and 3 to 20 runs) per figure. These are latencies: a ratio above 1 is what HTTP, the session, the rate limit and JSON add; ` +
      `for the aggregated AS graph the ratio is how much slower aggregating every link is than reading as_links. The AS graph: ${formatCount(pairs)} AS links.`,
  );
  return figures;
}

/** Runs `op` through the warm-up, then until `ctx.seconds` have passed and at least `minRuns` ran. */
export async function timeRuns(ctx: BenchContext, minRuns: number, op: () => Promise<void>): Promise<Timing> {
  const warmEnd = performance.now() + ctx.warmupSeconds * 1000;
  do {
    ctx.signal.throwIfAborted();
    await op();
  } while (performance.now() < warmEnd);
  const times: number[] = [];
  const end = performance.now() + ctx.seconds * 1000;
  while (times.length < minRuns || performance.now() < end) {
    ctx.signal.throwIfAborted();
    const t0 = performance.now();
    await op();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { p50: at(0.5), p95: at(0.95), runs: times.length };
}

function seedNotes(seed: SeedReport): string[] {
  const s = seed.topology.scale;
  const mib = (n: number) => `${formatCount(n)} MiB`;
  const results = seed.tables.find((t) => t.table === 'measurements.results')!;
  return [
    `map seed: ${formatCount(s.links)} links between ${formatCount(seed.topology.nodes + s.workers)} interfaces in ${formatCount(s.ases)} ASes; ` +
      `${formatCount(seed.topology.routes)} routes (${s.workers} workers × ${formatCount(seed.topology.targets)} targets) traced ${s.tracesPerRoute} times each over ${s.days} days; ` +
      `${formatCount(seed.hopObservations)} hop observations (answering TTLs in ${formatCount(results.rows)} stored traceroutes, ${formatCount(seed.hopObservations / results.seconds)}/s). ` +
      `Seeded in ${seed.seconds.toFixed(0)} s by COPY on 3 connections; database ${mib(seed.databaseMib)}; as_links rebuilt in ${seed.asLinksRebuildSeconds.toFixed(1)} s.`,
    `map seed tables: ${seed.tables.map((t) => `${t.table} ${formatCount(t.rows)} rows, ${formatCount(t.rows / t.seconds)} rows/s, ${mib(t.mib)}`).join('; ')}.`,
  ];
}

/** mulberry32: the same random routes and cursors every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
