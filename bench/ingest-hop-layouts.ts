import type { TracerouteResult } from '../src/results/result-schema.js';
import { copyResultsSql, resultCopyRow } from './ingest-copy.js';

/** A COPY statement and its rows in COPY text format. */
export interface CopyIn {
  sql: string;
  text: string;
}

/**
 * The two ways to keep a traceroute's hops, as scratch tables shaped like measurements.results (not
 * partitioned): hops only in the jsonb body, found through a GIN index on body->'hops'; or the body plus one
 * row per hop in a table of its own, found through btree indexes. Each layout carries the indexes its two
 * queries need: results through a hop, and the links of one worker's traces.
 */
export interface HopLayout {
  name: string;
  tables: string[];
  /** The index that answers "through hop X", whose plan is checked to use it. */
  hopIndex: string;
  create: string[];
  /** What stores a batch, in one transaction; built before the clock starts, so only the database is timed. */
  inserts(batch: TracerouteResult[]): CopyIn[];
  throughHop: { sql: string; param: (address: string) => string };
  workerLinks: string;
}

const resultsTable = (name: string) => [
  `create table ${name} (id uuid not null, received_at timestamptz not null default now(), measured_at timestamptz not null,
     type text not null, worker text not null, target inet not null, lease uuid, body jsonb not null)`,
  `create index on ${name} (target, received_at)`,
  `create index on ${name} (received_at)`,
  `create index on ${name} (worker)`,
];

const copyResults = (table: string, batch: TracerouteResult[]): CopyIn => ({
  sql: copyResultsSql(table),
  text: batch.map(resultCopyRow).join(''),
});

export const JSONB_LAYOUT: HopLayout = {
  name: 'jsonb only',
  tables: ['bench_hs_jsonb_results'],
  hopIndex: 'bench_hs_jsonb_hops_idx',
  create: [
    ...resultsTable('bench_hs_jsonb_results'),
    `create index bench_hs_jsonb_hops_idx on bench_hs_jsonb_results using gin ((body->'hops') jsonb_path_ops)`,
  ],
  inserts: (batch) => [copyResults('bench_hs_jsonb_results', batch)],
  throughHop: {
    sql: `select body from bench_hs_jsonb_results where body->'hops' @> $1::jsonb`,
    param: (address) => JSON.stringify([{ probes: [{ from: address }] }]),
  },
  // A hop's address is its first answer (lax jsonpath skips the null probes), as extract-links.ts reads it.
  workerLinks: `with h as (
      select r.id, (e->>'ttl')::int as ttl, jsonb_path_query_first(e->'probes', '$[*].from') #>> '{}' as address
        from bench_hs_jsonb_results r cross join lateral jsonb_array_elements(r.body->'hops') e
       where r.worker = $1)
    select distinct a.address as near, b.address as far from h a join h b on b.id = a.id and b.ttl = a.ttl + 1
     where a.address <> b.address`,
};

export const HOP_TABLE_LAYOUT: HopLayout = {
  name: 'jsonb + hop table',
  tables: ['bench_hs_table_results', 'bench_hs_hops'],
  hopIndex: 'bench_hs_hops_address_idx',
  create: [
    ...resultsTable('bench_hs_table_results'),
    'create unique index on bench_hs_table_results (id)',
    'create table bench_hs_hops (result_id uuid not null, ttl smallint not null, address inet not null, rtt_us real)',
    'create index bench_hs_hops_address_idx on bench_hs_hops (address)',
    'create index on bench_hs_hops (result_id, ttl)',
  ],
  inserts: (batch) => [
    copyResults('bench_hs_table_results', batch),
    {
      sql: 'copy bench_hs_hops (result_id, ttl, address, rtt_us) from stdin',
      text: batch
        .flatMap(hopRows)
        .map((h) => `${h.resultId}\t${h.ttl}\t${h.address}\t${h.rttUs}\n`)
        .join(''),
    },
  ],
  throughHop: {
    sql: 'select body from bench_hs_table_results where id in (select result_id from bench_hs_hops where address = $1::inet)',
    param: (address) => address,
  },
  workerLinks: `select distinct a.address as near, b.address as far
      from bench_hs_table_results r
      join bench_hs_hops a on a.result_id = r.id
      join bench_hs_hops b on b.result_id = r.id and b.ttl = a.ttl + 1
     where r.worker = $1 and a.address <> b.address`,
};

/** One row per hop that answered: its first answer's address and that address's best RTT, as extract-links.ts reads a hop. */
function hopRows(r: TracerouteResult): Array<{ resultId: string; ttl: number; address: string; rttUs: number }> {
  return r.hops.flatMap((hop) => {
    const answers = hop.probes.filter((p) => p !== null);
    const first = answers[0];
    if (!first) return [];
    return [
      {
        resultId: r.id,
        ttl: hop.ttl,
        address: first.from,
        rttUs: Math.min(...answers.filter((a) => a.from === first.from).map((a) => a.rtt_us)),
      },
    ];
  });
}
