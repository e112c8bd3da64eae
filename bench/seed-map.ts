import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { formatCount } from './bench-table.js';
import {
  AS_BLOCK,
  FIRST_ASN,
  gatewayAddress,
  interfaceAddress,
  MapTopology,
  pathHashOf,
  workerName,
  type MapScale,
} from './map-topology.js';

export interface SeededTable {
  table: string;
  rows: number;
  seconds: number;
  mib: number;
}

export interface SeedReport {
  topology: MapTopology;
  tables: SeededTable[];
  /** Answering hops inside the stored traceroute bodies. */
  hopObservations: number;
  seconds: number;
  databaseMib: number;
  /** `select as_links_rebuild()` after the load (triggers are off while seeding). */
  asLinksRebuildSeconds: number;
}

/** Rows per chunk handed to the COPY stream: big enough that stream overhead vanishes, small for memory. */
const CHUNK = 2_000;

/**
 * Fills a migrated, empty database with a map of `scale` (see MapTopology) by COPY, the fastest path in: links,
 * address_info and asn_ranges, paths, route_spans, route_current and route_changes, and the traceroutes
 * themselves in measurements.results and result_ids. A "hop observation" is one answering TTL inside a stored
 * traceroute's body: that table is what grows without bound in a long-running deployment (links, paths and
 * spans grow with the size of the map, results with time). Three connections COPY side by side (map tables,
 * two halves of the results), with triggers off (session_replication_role = replica); as_links is rebuilt once at the end.
 * Then vacuum analyze, as a deployment's autovacuum would have.
 */
export async function seedMap(
  url: string,
  scale: MapScale,
  opts: { signal: AbortSignal; progress: (message: string) => void },
): Promise<SeedReport> {
  const t0 = performance.now();
  const topo = new MapTopology(scale, Date.now(), randomBytes(6).toString('hex'));
  const [a, b, c] = await Promise.all([connect(url), connect(url), connect(url)]);
  try {
    for (const client of [a, b, c]) await client.query(`set session_replication_role = replica`);
    const days = Array.from({ length: scale.days + 2 }, (_, i) =>
      new Date(topo.windowStart + (i - 1) * 86_400_000).toISOString().slice(0, 10),
    );
    await a.query('select measurements.ensure_partition(d) from unnest($1::date[]) as d', [days]);

    const tables: SeededTable[] = [];
    const copy = async (client: pg.Client, table: string, columns: string, rows: () => Iterable<string>) => {
      const t = performance.now();
      const n = await copyRows(client, `copy ${table} (${columns}) from stdin`, rows(), opts.signal);
      // Halves of one table (the results) add up to one entry, timed from the first start to the last end.
      const seen = tables.find((e) => e.table === table);
      const seconds = (performance.now() - t) / 1000;
      if (seen) Object.assign(seen, { rows: seen.rows + n, seconds: Math.max(seen.seconds, seconds) });
      else tables.push({ table, rows: n, seconds, mib: 0 });
      opts.progress(`map seed: ${table}: ${formatCount(n)} rows in ${seconds.toFixed(1)} s`);
    };
    let hopObservations = 0;
    opts.progress(
      `map seed: ${formatCount(scale.links)} links, ${formatCount(topo.nodes + scale.workers)} interfaces in ${formatCount(scale.ases)} ASes, ` +
        `${formatCount(topo.routes)} routes × ${scale.tracesPerRoute} traces (~${formatCount(scale.hopObservations)} hop observations)`,
    );
    await Promise.all([
      (async () => {
        await copy(
          a,
          'links',
          'near, far, first_seen_at, last_seen_at, count, delta_min_us, delta_max_us, delta_sum_us',
          () => linkRows(topo),
        );
        await copy(a, 'address_info', 'address, kind, asn, as_org, country, data_version, source, updated_at', () =>
          addressRows(topo),
        );
        await copy(a, 'asn_ranges', 'first, last, asn, org', () => rangeRows(topo));
        await copy(a, 'paths', 'id, hash, hops, reached, silent_ttls, first_seen_at', () => pathRows(topo));
        await copy(
          a,
          'route_spans',
          'id, worker, target, method, flow, path_id, first_seen_at, last_seen_at, observations, first_result, last_result',
          () => spanRows(topo),
        );
        await copy(a, 'route_current', 'worker, target, method, flow, span_id', () => currentRows(topo));
        await copy(
          a,
          'route_changes',
          'worker, target, method, flow, before_span_id, after_span_id, before_path_id, after_path_id, diverge_ttl, before_last_seen_at, after_first_seen_at, result_id',
          () => changeRows(topo),
        );
        await a.query(
          `select setval(pg_get_serial_sequence('paths', 'id'), $1), setval(pg_get_serial_sequence('route_spans', 'id'), $2)`,
          [topo.pathId(topo.routes, 0), topo.firstSpanId(topo.routes)],
        );
      })(),
      // The results on two connections: parsing jsonb bodies is what bounds the seeding, one core per backend.
      ...[b, c].map((client, part) =>
        copy(client, 'measurements.results', 'id, received_at, measured_at, type, worker, target, lease, body', () =>
          resultRows(topo, part, (n) => (hopObservations += n), opts.progress),
        ),
      ),
    ]);
    await copy(b, 'result_ids', 'id, received_at', () => resultIdRows(topo));

    opts.progress('map seed: vacuum analyze');
    await a.query('vacuum analyze');
    opts.progress('map seed: rebuilding as_links');
    await a.query('set session_replication_role = origin');
    const tr = performance.now();
    await a.query('select as_links_rebuild()');
    const asLinksRebuildSeconds = (performance.now() - tr) / 1000;

    for (const t of tables) {
      const { rows } = await a.query<{ mib: number }>(
        `select pg_total_relation_size(c.oid) / 1048576.0 as mib from pg_class c where c.oid = $1::regclass`,
        [t.table],
      );
      // measurements.results is partitioned: the parent has no storage of its own.
      const parts =
        t.table === 'measurements.results'
          ? await a.query<{ mib: number }>(
              `select sum(pg_total_relation_size(inhrelid)) / 1048576.0 as mib from pg_inherits where inhparent = 'measurements.results'::regclass`,
            )
          : undefined;
      t.mib = Number(parts?.rows[0]?.mib ?? rows[0]?.mib ?? 0);
    }
    const { rows } = await a.query<{ mib: number }>('select pg_database_size(current_database()) / 1048576.0 as mib');
    return {
      topology: topo,
      tables,
      hopObservations,
      seconds: (performance.now() - t0) / 1000,
      databaseMib: Number(rows[0]!.mib),
      asLinksRebuildSeconds,
    };
  } finally {
    await Promise.all([a.end(), b.end(), c.end()]);
  }
}

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, application_name: 'hopmap-bench-seed' });
  await c.connect();
  return c;
}

async function copyRows(client: pg.Client, sql: string, rows: Iterable<string>, signal: AbortSignal): Promise<number> {
  let n = 0;
  function* chunks() {
    let chunk: string[] = [];
    for (const row of rows) {
      chunk.push(row);
      n++;
      if (chunk.length === CHUNK) {
        signal.throwIfAborted();
        yield chunk.join('');
        chunk = [];
      }
    }
    if (chunk.length) yield chunk.join('');
  }
  await pipeline(Readable.from(chunks()), client.query(copyFrom(sql)));
  return n;
}

const iso = (ms: number) => new Date(ms).toISOString();
const ROUTE_KEY = (topo: MapTopology, r: number) =>
  `${workerName(topo.workerOf(r))}\t${interfaceAddress(topo.targetOf(r))}\ticmp-paris\t4242`;

/** Tree links in (near, far) order (child order is), then the gateways' links to the root. */
function* linkRows(topo: MapTopology): Iterable<string> {
  const first = iso(topo.windowStart);
  const last = iso(topo.endMs);
  for (let c = 1; c < topo.nodes; c++) {
    const count = 1 + (c % 50);
    yield `${interfaceAddress(Math.floor((c - 1) / 4))}\t${interfaceAddress(c)}\t${first}\t${last}\t${count}\t100\t900\t${count * 500}\n`;
  }
  for (let w = 0; w < topo.scale.workers; w++)
    yield `${gatewayAddress(w)}\t${interfaceAddress(0)}\t${first}\t${last}\t1000\t100\t900\t500000\n`;
}

const COUNTRIES = ['DE', 'FR', 'NL', 'US', 'JP', 'BR', 'GB', 'SE'];

function* addressRows(topo: MapTopology): Iterable<string> {
  const at = iso(topo.endMs);
  const row = (address: string, asn: number) =>
    `${address}\tpublic\t${asn}\tBench AS${asn}\t${COUNTRIES[asn % COUNTRIES.length]}\tbench\tip-location-db\t${at}\n`;
  for (let i = 0; i < topo.nodes; i++) yield row(interfaceAddress(i), topo.asnOf(i));
  for (let w = 0; w < topo.scale.workers; w++) yield row(gatewayAddress(w), FIRST_ASN + (w % topo.scale.ases));
}

function* rangeRows(topo: MapTopology): Iterable<string> {
  for (let j = 0; j < topo.blocks; j++) {
    const asn = topo.asnOf(j * AS_BLOCK);
    yield `${interfaceAddress(j * AS_BLOCK)}\t${interfaceAddress(Math.min(topo.nodes, (j + 1) * AS_BLOCK) - 1)}\t${asn}\tBench AS${asn}\n`;
  }
}

function* pathRows(topo: MapTopology): Iterable<string> {
  for (let r = 0; r < topo.routes; r++) {
    for (let v = 0; v < Math.min(2, topo.spansOf(r)); v++) {
      const hops = topo.hops(r, v);
      yield `${topo.pathId(r, v)}\t${pathHashOf(hops, true)}\t${JSON.stringify(hops)}\ttrue\t{}\t${iso(topo.traceTime(r, topo.spanTraces(r, v).first))}\n`;
    }
  }
}

function* spanRows(topo: MapTopology): Iterable<string> {
  for (let r = 0; r < topo.routes; r++) {
    const key = ROUTE_KEY(topo, r);
    for (let s = 0; s < topo.spansOf(r); s++) {
      const { first, last } = topo.spanTraces(r, s);
      yield `${topo.firstSpanId(r) + s}\t${key}\t${topo.pathId(r, s % 2)}\t${iso(topo.traceTime(r, first))}\t${iso(topo.traceTime(r, last))}\t${last - first + 1}\t${topo.resultId(r, first)}\t${topo.resultId(r, last)}\n`;
    }
  }
}

function* currentRows(topo: MapTopology): Iterable<string> {
  for (let r = 0; r < topo.routes; r++) yield `${ROUTE_KEY(topo, r)}\t${topo.firstSpanId(r) + topo.spansOf(r) - 1}\n`;
}

function* changeRows(topo: MapTopology): Iterable<string> {
  for (let r = 0; r < topo.routes; r++) {
    const key = ROUTE_KEY(topo, r);
    const silentTtl = topo.silentIndex(r, topo.hops(r, 0).length) + 1;
    for (let s = 1; s < topo.spansOf(r); s++) {
      const before = topo.spanTraces(r, s - 1);
      const after = topo.spanTraces(r, s);
      const span = topo.firstSpanId(r) + s;
      yield `${key}\t${span - 1}\t${span}\t${topo.pathId(r, (s - 1) % 2)}\t${topo.pathId(r, s % 2)}\t${silentTtl}\t${iso(topo.traceTime(r, before.last))}\t${iso(topo.traceTime(r, after.first))}\t${topo.resultId(r, after.first)}\n`;
    }
  }
}

/** Trace by trace in time order (round k of every route), as they would have arrived; `part` 0 or 1 takes every other route. */
function* resultRows(
  topo: MapTopology,
  part: number,
  counted: (answered: number) => void,
  progress: (m: string) => void,
): Iterable<string> {
  const total = topo.routes * topo.scale.tracesPerRoute;
  let done = 0;
  for (let k = 0; k < topo.scale.tracesPerRoute; k++) {
    for (let r = part; r < topo.routes; r += 2) {
      const { body, answered, at } = topo.traceBody(r, k);
      counted(answered);
      yield `${topo.resultId(r, k)}\t${at}\t${at}\ttraceroute\t${workerName(topo.workerOf(r))}\t${interfaceAddress(topo.targetOf(r))}\t\\N\t${body}\n`;
      if (++done % 250_000 === 0)
        progress(
          `map seed: measurements.results (part ${part + 1} of 2): ${formatCount(done)} of ~${formatCount(total / 2)} traceroutes`,
        );
    }
  }
}

function* resultIdRows(topo: MapTopology): Iterable<string> {
  for (let k = 0; k < topo.scale.tracesPerRoute; k++) {
    for (let r = 0; r < topo.routes; r++) yield `${topo.resultId(r, k)}\t${iso(topo.traceTime(r, k))}\n`;
  }
}
