import pg from 'pg';
import type { BenchCase, BenchContext, Figure } from '../bench-case.js';
import { measureLoop } from '../measure-loop.js';
import { loopDetails } from '../bench-table.js';

export const RAW_SQL_LEASE = 'raw-sql-lease';
const BATCH = 100;
const CLIENT_COUNTS = [1, 4];

// The textbook queue lease, the floor hopmap's leasing is measured against. The partial index keeps the
// scan from wading through rows already leased (without it each lease re-reads them and throughput sinks
// as the run goes on, which would flatter hopmap).
export const LEASE_SQL = `with c as (select id from bench_queue where leased_at is null order by id limit ${BATCH} for update skip locked)
  update bench_queue q set leased_at = now(), leased_by = $1 from c where q.id = c.id returning q.address`;

/** Baseline: a loop of transactions each leasing 100 rows of a plain queue table, from 1 and from 4 connections. */
export const rawSqlLease: BenchCase = {
  name: RAW_SQL_LEASE,
  async run(ctx) {
    // Enough rows that no measurement runs the queue dry (about 60k rows/s at most on a small machine).
    const rows = Math.max(1_000_000, Math.ceil(80_000 * (ctx.seconds + ctx.warmupSeconds)) * CLIENT_COUNTS.length);
    ctx.progress(`raw SQL lease: filling bench_queue with ${rows.toLocaleString('en-US')} rows`);
    await fillQueue(ctx.db.url, rows);

    const figures: Figure[] = [];
    let dry = false;
    for (const clients of CLIENT_COUNTS) {
      ctx.progress(`raw SQL lease: ${clients} client${clients > 1 ? 's' : ''}, ${ctx.seconds} s`);
      const connections = await Promise.all(Array.from({ length: clients }, () => connect(ctx.db.url)));
      try {
        const result = await measureLoop(loopOptions(ctx, clients), async (w) => {
          const { rowCount } = await connections[w]!.query(LEASE_SQL, [`bench-raw-${w}`]);
          if (!rowCount) dry = true;
          return rowCount ?? 0;
        });
        // More clients are compared with one: how far the queue scales across connections.
        const id = `${RAW_SQL_LEASE}/${clients}-client${clients > 1 ? 's' : ''}`;
        figures.push({
          id,
          ...(figures[0] ? { baseline: figures[0].id } : {}),
          label: `rows leased/s, raw SQL, ${clients} client${clients > 1 ? 's' : ''}`,
          value: result.itemsPerSecond,
          unit: 'rows/s',
          details: loopDetails(result, 'tx'),
          data: { ...result, rows },
        });
      } finally {
        await Promise.all(connections.map((c) => c.end()));
      }
      await vacuum(ctx.db.url);
    }
    await dropQueue(ctx.db.url);
    return {
      figures,
      notes: [
        `raw SQL lease: bench_queue(id bigserial primary key, address inet, leased_by text, leased_at timestamptz), ${rows.toLocaleString('en-US')} rows ` +
          `and a partial index on id where leased_at is null; each transaction leases ${BATCH} rows (select … order by id limit ${BATCH} ` +
          `for update skip locked, then update … returning address). "N clients" = N connections looping at once; vacuumed between runs.`,
        ...(dry
          ? [
              'raw SQL lease: WARNING the queue ran dry during a measurement; the figure is too high. Use fewer --seconds.',
            ]
          : []),
      ],
    };
  },
};

const loopOptions = (ctx: BenchContext, workers: number) => ({
  workers,
  warmupMs: ctx.warmupSeconds * 1000,
  durationMs: ctx.seconds * 1000,
  signal: ctx.signal,
});

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'hopmap-bench' });
  await client.connect();
  return client;
}

async function withClient(url: string, fn: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = await connect(url);
  try {
    await fn(client);
  } finally {
    await client.end();
  }
}

export const fillQueue = (url: string, rows: number) =>
  withClient(url, async (c) => {
    await c.query('drop table if exists bench_queue');
    await c.query(
      'create table bench_queue (id bigserial primary key, address inet not null, leased_by text, leased_at timestamptz)',
    );
    // Consecutive addresses from 20.0.0.0 on: the content does not matter, only the row count and width.
    await c.query(
      `insert into bench_queue (address) select '20.0.0.0'::inet + g from generate_series(0, $1::bigint - 1) g`,
      [rows],
    );
    await c.query('create index bench_queue_unleased_idx on bench_queue (id) where leased_at is null');
    await c.query('vacuum analyze bench_queue');
  });

const vacuum = (url: string) => withClient(url, (c) => c.query('vacuum analyze bench_queue').then(() => {}));
export const dropQueue = (url: string) => withClient(url, (c) => c.query('drop table bench_queue').then(() => {}));
