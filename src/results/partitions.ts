import type { Pool, PoolClient } from '../db/create-pool.js';
import { inTransaction } from '../db/in-transaction.js';

/** Serialises partition creation across instances: two CREATE TABLE ... PARTITION OF the same day would clash. */
const PARTITION_LOCK_KEY = 727_101_400;

/** Creates today's and the next `daysAhead` days' partitions; returns how many it created. In a transaction. */
export async function ensurePartitionsAhead(client: PoolClient, daysAhead: number): Promise<number> {
  await client.query('select pg_advisory_xact_lock($1)', [PARTITION_LOCK_KEY]);
  const { rows } = await client.query<{ n: number }>('select measurements.ensure_partitions($1) as n', [daysAhead]);
  return rows[0]!.n;
}

/** Creates the daily partitions of these days (YYYY-MM-DD, UTC) where they are missing; returns how many. */
export function ensurePartitionsFor(pool: Pool, days: Iterable<string>): Promise<number> {
  const list = [...new Set(days)].sort();
  if (list.length === 0) return Promise.resolve(0);
  return inTransaction(pool, async (client) => {
    await client.query('select pg_advisory_xact_lock($1)', [PARTITION_LOCK_KEY]);
    const { rows } = await client.query<{ n: number }>(
      'select count(*) filter (where measurements.ensure_partition(d))::int as n from unnest($1::date[]) as d',
      [list],
    );
    return rows[0]!.n;
  });
}
