import { performance } from 'node:perf_hooks';
import pg from 'pg';

/** Rows per insert statement: one transaction each, so a Ctrl-C loses at most one chunk and WAL stays bounded. */
const CHUNK = 250_000;
/** Days the seeded results' received_at is spread over (one partition each), as a week of retention would hold. */
export const SEEDED_DAYS = 7;
/** Seeded results go to targets 20.0.0.0 + (n mod TARGET_SPREAD): 100 results per target at 10^7. */
export const TARGET_SPREAD = 100_000;

/** One short-lived client: seeding runs long statements that should not hold a pool's connection. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, application_name: 'hopmap-bench-growth' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * Runs `load` with the secondary indexes of `table` dropped, then builds them again: a bulk load sorts once
 * instead of inserting 10^7 entries one by one (the GiST index of target_blocks alone took over 20 minutes).
 * Primary keys stay.
 */
async function withoutIndexes(url: string, table: string, load: () => Promise<void>): Promise<void> {
  const [schema, name] = table.includes('.') ? table.split('.') : ['public', table];
  const defs = await withClient(url, async (c) => {
    const { rows } = await c.query<{ name: string; def: string }>(
      `select i.indexname as name, i.indexdef as def from pg_indexes i
        where i.schemaname = $1 and i.tablename = $2
          and not exists (select 1 from pg_constraint k where k.conname = i.indexname and k.contype in ('p', 'u'))`,
      [schema, name],
    );
    for (const r of rows) await c.query(`drop index ${schema}.${r.name}`);
    return rows.map((r) => r.def);
  });
  try {
    await load();
  } finally {
    await withClient(url, async (c) => {
      // pg_indexes gives a partitioned table's index as `ON ONLY parent`, which builds an invalid index on the
      // parent alone and none on the partitions: every query then scanned each partition whole (a first 10^7
      // run measured that, not hopmap). Without ONLY it cascades to every partition.
      for (const def of defs) await c.query(def.replace(/ ON ONLY /, ' ON '));
      const invalid = await c.query<{ name: string }>(
        `select i.indexrelid::regclass::text as name from pg_index i join pg_inherits h on h.inhrelid = i.indrelid or h.inhparent = i.indrelid
          where h.inhparent = $1::regclass and not i.indisvalid
         union select indexrelid::regclass::text from pg_index where indrelid = $1::regclass and not indisvalid`,
        [table],
      );
      if (invalid.rowCount)
        throw new Error(
          `after seeding ${table}, these indexes are invalid: ${invalid.rows.map((r) => r.name).join(', ')}`,
        );
    });
  }
}

/**
 * Adds results until `measurements.results` and `result_ids` hold `total` rows (from `have`), all in SQL:
 * generate_series makes ids, targets and ping-shaped bodies (~300 bytes of jsonb; a traceroute is ~3.5 KB but
 * its size only moves the heap, not the indexes the ingest maintains), received over the last 7 days. Two
 * connections insert chunks side by side (one core each), then `vacuum analyze` as autovacuum would.
 */
export async function seedResults(
  url: string,
  have: number,
  total: number,
  opts: { signal: AbortSignal; progress(m: string): void },
): Promise<{ seconds: number }> {
  const t0 = performance.now();
  await withClient(url, (c) =>
    c.query(
      `select measurements.ensure_partition(((now() at time zone 'UTC') - make_interval(days => d))::date) from generate_series(-1, $1::int) d`,
      [SEEDED_DAYS],
    ),
  );
  const chunks: Array<[number, number]> = [];
  for (let from = have; from < total; from += CHUNK) chunks.push([from, Math.min(total, from + CHUNK)]);
  let done = have;
  const lane = async () =>
    withClient(url, async (c) => {
      for (let next = chunks.shift(); next; next = chunks.shift()) {
        opts.signal.throwIfAborted();
        await c.query(
          `with g as materialized (
             select gen_random_uuid() as id, now() - random() * interval '${SEEDED_DAYS} days' as at, n from generate_series($1::bigint, $2::bigint - 1) n),
           ids as (insert into result_ids (id, received_at) select id, at from g)
           insert into measurements.results (id, received_at, measured_at, type, worker, target, lease, body)
           select id, at, at, 'ping', 'growth-w' || (n % 8), '20.0.0.0'::inet + (n % ${TARGET_SPREAD}), null,
                  jsonb_build_object('format', 'hopmap-result/1', 'id', id, 'type', 'ping', 'worker', 'growth-w' || (n % 8), 'lease', null,
                    'target', host('20.0.0.0'::inet + (n % ${TARGET_SPREAD})), 'started_at', at, 'finished_at', at + interval '3 ms',
                    'method', 'icmp', 'sent', 3, 'received', 3, 'rtts_us', jsonb_build_array(40.5, 39.1, 41.7), 'reply_ttl', 58)
             from g`,
          next,
        );
        done += next[1] - next[0];
        opts.progress(`growth: results ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`);
      }
    });
  await withoutIndexes(url, 'measurements.results', async () => {
    await Promise.all([lane(), lane()]);
  });
  opts.progress('growth: vacuum analyze result_ids, measurements.results');
  await withClient(url, (c) => c.query('vacuum analyze result_ids, measurements.results'));
  return { seconds: (performance.now() - t0) / 1000 };
}

/** Bytes of result_ids and every partition of measurements.results, with indexes and TOAST. */
export function resultsBytes(url: string): Promise<number> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ bytes: string }>(
      `select pg_total_relation_size('result_ids') + (select coalesce(sum(pg_total_relation_size(inhrelid)), 0) from pg_inherits where inhparent = 'measurements.results'::regclass) as bytes`,
    );
    return Number(rows[0]!.bytes);
  });
}

/**
 * Replaces the target pool with `n` single-address blocks (20.0.0.0 and up, one /32 each: the hard case of
 * the block ring, every target opens a block), written by SQL as an import of that many lines would leave
 * them. `effective` is set directly: the blocks cannot overlap, and refreshEffectiveBlocks' GiST probe per
 * block would take minutes at 10^7.
 */
export async function seedTargets(url: string, n: number): Promise<{ seconds: number; bytes: number }> {
  const t0 = performance.now();
  return withClient(url, async (c) => {
    await c.query(
      'truncate target_sources, target_blocks, hops, consumers, consumer_blocks, leases restart identity cascade',
    );
    await withoutIndexes(url, 'target_blocks', async () => {
      await c.query(
        `insert into target_blocks (source, line, cidr, family, walk_size, shuffle_key, active, effective)
         select 'growth.txt', g + 1, set_masklen('20.0.0.0'::inet + g, 32)::cidr, 4, 1, hashint8(g), true, true from generate_series(0, $1::bigint - 1) g`,
        [n],
      );
    });
    await c.query(
      `insert into target_sources (source, sha256, lines, blocks, skipped) values ('growth.txt', repeat('0', 64), $1, $1, 0)`,
      [n],
    );
    await c.query('vacuum analyze target_blocks');
    const { rows } = await c.query<{ bytes: string }>(`select pg_total_relation_size('target_blocks') as bytes`);
    return { seconds: (performance.now() - t0) / 1000, bytes: Number(rows[0]!.bytes) };
  });
}
