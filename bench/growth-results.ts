import http from 'node:http';
import pg from 'pg';
import { createLogger } from '../src/log/create-logger.js';
import { asOfAddresses } from '../src/map/graph/address-info.js';
import { routePathsAt } from '../src/results/route-history.js';
import type { BenchContext, Figure } from './bench-case.js';
import { formatCount, formatMs, loopDetails } from './bench-table.js';
import { timeRuns, type Timing } from './cases/map-api.js';
import { resultsBytes, seedResults, TARGET_SPREAD } from './growth-seed.js';
import { sizeLabel } from './growth-lease.js';
import { httpGet } from './http-get.js';
import { TraceBatches } from './ingest-batches.js';
import { runCopyLoad } from './ingest-copy.js';
import { benchKeyHeaders } from './bench-keys.js';
import { runIngestLoad } from './ingest-load.js';
import { startOutputInstance } from './ingest-output-instances.js';
import { startSignedInManager, type SignedInManager } from './map-manager.js';
import { interfaceAddress, workerName, type MapScale, type MapTopology } from './map-topology.js';
import { seedMap } from './seed-map.js';

/** Batches in flight, for the HTTP senders and the COPY clients alike (as ingest-http). */
const SENDERS = 4;
/** The shortest ingest window, whatever --seconds says. */
const INGEST_MIN_SECONDS = 15;
/**
 * A small map for the path query: ~90 routes, ~550 traceroutes. The path query reads route_spans, paths and
 * address_info, never the results; it is here to show that, beside /recent and /stats, which do read them.
 */
const GROWTH_MAP: MapScale = {
  links: 20_000,
  ases: 50,
  workers: 4,
  tracesPerRoute: 6,
  hopObservations: 5_000,
  days: 7,
};

export interface ResultsGrowth {
  stored: number;
  topo: MapTopology;
  signedIn: SignedInManager;
  pool: pg.Pool;
  batches: TraceBatches;
  stop(): Promise<void>;
}

/** The map, a signed-in manager in this process and a plain pool, shared by every size. */
export async function startResultsGrowth(ctx: BenchContext): Promise<ResultsGrowth> {
  const pool = new pg.Pool({ connectionString: ctx.db.url, max: 2, application_name: 'hopmap-bench-growth' });
  await pool.query(
    'truncate links, address_info, asn_ranges, paths, route_spans, route_current, route_changes, result_ids, measurements.results, hops',
  );
  const seed = await seedMap(ctx.db.url, GROWTH_MAP, { signal: ctx.signal, progress: ctx.progress });
  const signedIn = await startSignedInManager(ctx.db.url, createLogger({ level: 'error', pretty: false }));
  const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from result_ids');
  return {
    stored: rows[0]!.n,
    topo: seed.topology,
    signedIn,
    pool,
    batches: new TraceBatches(),
    stop: async () => {
      await signedIn.manager.stop();
      await pool.end();
    },
  };
}

/**
 * At `n` stored results (seeded up from what is there): the latency of output's GET /recent?ip= and GET
 * /stats and of the manager's GET /api/map/path, each beside its SQL alone; then the ingest rate, raw COPY
 * (4 clients) and then POST /results to one `hopmap output` (4 senders), on top of those rows.
 */
export async function measureResultsGrowth(
  ctx: BenchContext,
  caseName: string,
  g: ResultsGrowth,
  n: number,
): Promise<{ figures: Figure[]; notes: string[] }> {
  const size = sizeLabel(n);
  const notes: string[] = [];
  if (g.stored < n) {
    const seeded = await seedResults(ctx.db.url, g.stored, n, ctx);
    notes.push(
      `growth: results ${formatCount(g.stored)} → ${formatCount(n)} seeded in ${seeded.seconds.toFixed(0)} s (SQL, 2 connections, with vacuum analyze)`,
    );
    g.stored = n;
  }
  const mib = (await resultsBytes(ctx.db.url)) / 2 ** 20;
  notes.push(`growth ${size}: results and result_ids take ${formatCount(mib)} MiB with indexes`);

  const figures: Figure[] = [];
  const latency = (id: string, label: string, t: Timing, baseline?: string) =>
    figures.push({
      id: `${caseName}/${id}-${size}`,
      label: `${label}, ${formatCount(n)} results`,
      value: t.p50,
      unit: 'ms',
      better: 'lower',
      ...(baseline ? { baseline: `${caseName}/${baseline}-${size}` } : {}),
      details: `p50 ${formatMs(t.p50)}, p95 ${formatMs(t.p95)}, ${t.runs} runs`,
      data: { ...t, stored: n },
    });

  const output = await startOutputInstance({
    name: 'bench-growth-output',
    databaseUrl: ctx.db.url,
    signal: ctx.signal,
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  // /recent and /stats are for operators (an admin key); POST /results takes a worker's.
  const admin = await benchKeyHeaders(ctx.db.url, 'admin');
  const worker = await benchKeyHeaders(ctx.db.url, 'worker');
  try {
    const get = async (url: string, headers: Record<string, string> = {}) => {
      const res = await httpGet(url, { agent, headers, timeoutMs: 120_000 });
      if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${res.body.slice(0, 200)}`);
      return res.body;
    };
    let k = 0;
    const target = () => `20.0.${Math.floor((k % TARGET_SPREAD) / 256) % 256}.${k++ % 256}`;
    ctx.progress(`growth ${size}: GET /recent?ip=`);
    latency(
      'recent-sql',
      'ms p50, latest 100 results of a target, SQL',
      await timeRuns(ctx, 20, async () => {
        await g.pool.query(
          'select body from measurements.results where target = $1::inet order by received_at desc limit 100',
          [target()],
        );
      }),
    );
    latency(
      'recent-http',
      'ms p50, GET /recent?ip=&limit=100 (output)',
      await timeRuns(ctx, 20, async () => void (await get(`${output.url}/recent?ip=${target()}&limit=100`, admin))),
      'recent-sql',
    );
    ctx.progress(`growth ${size}: GET /stats`);
    latency(
      'stats-sql',
      'ms p50, count(*) from result_ids (what /stats read before its rollup), SQL',
      await timeRuns(ctx, 3, async () => void (await g.pool.query('select count(*) from result_ids'))),
    );
    latency(
      'stats-http',
      'ms p50, GET /stats (output)',
      await timeRuns(ctx, 3, async () => void (await get(`${output.url}/stats`, admin))),
      'stats-sql',
    );

    ctx.progress(`growth ${size}: GET /api/map/path`);
    const topo = g.topo;
    const routeAt = (i: number) => {
      const r = i % topo.routes;
      const at = new Date(
        topo.windowStart + topo.windowMs * (1 / 7 + ((6 / 7) * ((i * 7919) % 1000)) / 1000),
      ).toISOString();
      return { worker: workerName(topo.workerOf(r)), target: interfaceAddress(topo.targetOf(r)), at };
    };
    let i = 0;
    latency(
      'path-sql',
      'ms p50, path of a route at a time, SQL',
      await timeRuns(ctx, 20, async () => {
        const q = routeAt(i++);
        const spans = await routePathsAt(g.pool, q.worker, q.target, q.at);
        await asOfAddresses(g.pool, [...new Set(spans.flatMap((s) => s.hops.flat()))]);
      }),
    );
    i = 0;
    latency(
      'path-http',
      'ms p50, GET /api/map/path (manager)',
      await timeRuns(ctx, 20, async () => {
        const q = routeAt(i++);
        await get(
          `${g.signedIn.manager.url}/api/map/path?worker=${q.worker}&target=${q.target}&at=${encodeURIComponent(q.at)}`,
          { cookie: g.signedIn.cookie },
        );
      }),
      'path-sql',
    );

    // A request of 500 traces takes ~1.4 s idle: a window of 5 s would count only a few (bench/README.md).
    const window = {
      warmupMs: Math.max(ctx.warmupSeconds, 3) * 1000,
      durationMs: Math.max(ctx.seconds, INGEST_MIN_SECONDS) * 1000,
      signal: ctx.signal,
    };
    ctx.progress(`growth ${size}: raw COPY, ${SENDERS} clients, ${window.durationMs / 1000} s`);
    const copy = await runCopyLoad({ url: ctx.db.url, clients: SENDERS, batches: g.batches, ...window });
    const copyId = `${caseName}/ingest-copy-${size}`;
    figures.push({
      id: copyId,
      label: `results/s, raw COPY, ${SENDERS} clients, ${formatCount(n)} stored`,
      value: copy.itemsPerSecond,
      unit: 'results/s',
      details: loopDetails(copy, 'tx'),
      data: { ...copy, stored: n },
    });
    ctx.progress(`growth ${size}: POST /results, 1 instance, ${SENDERS} senders, ${window.durationMs / 1000} s`);
    const ingest = await runIngestLoad({
      urls: [output.url],
      senders: SENDERS,
      batches: g.batches,
      headers: worker,
      ...window,
    });
    figures.push({
      id: `${caseName}/ingest-http-${size}`,
      label: `results/s, HTTP POST, 1 instance, ${formatCount(n)} stored`,
      value: ingest.itemsPerSecond,
      unit: 'results/s',
      baseline: copyId,
      details: loopDetails(ingest, 'req'),
      data: { ...ingest, stored: n },
    });
    for (const [what, r] of [
      ['raw COPY', copy],
      ['HTTP', ingest],
    ] as const)
      if (r.errors) notes.push(`growth ${size} ${what}: ${r.errors} failures, e.g. ${r.errorSamples.join(' | ')}`);
    // What the two ingests added: later sizes are seeded up from the real count.
    const { rows } = await g.pool.query<{ n: number }>('select count(*)::int as n from result_ids');
    g.stored = rows[0]!.n;
  } finally {
    agent.destroy();
    await output.stop();
  }
  if (output.log.errors)
    notes.push(`growth ${size}: output logged ${output.log.errors} errors: ${output.log.samples.join(' | ')}`);
  return { figures, notes };
}
