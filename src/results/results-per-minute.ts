import type { Task } from 'graphile-worker';
import type { Pool, PoolClient } from '../db/create-pool.js';
import { inTransaction } from '../db/in-transaction.js';

export interface RollUpOutcome {
  /** The minutes counted, [from, to); none when nothing new had closed. */
  from: string | null;
  to: string | null;
  rows: number;
}

/**
 * Counts the results received per minute and type into results_per_minute, for the closed minutes from the last
 * rolled-up one up to now() minus 3 minutes. received_at is the ingest transaction's now() (store-results.ts), so a
 * transaction that began before a minute ended may commit after it: the margin waits for those. A rolled-up minute
 * then never changes, except by a merge (which rewinds, below) or rotation (which forgets). Never more than the 24
 * hours /stats shows per run, so a first run on a big database or one after days down stays bounded. Each run
 * deletes and recounts its range, so running twice, or over a range already counted, counts nothing twice.
 */
export function rollUpResultsPerMinute(pool: Pool): Promise<RollUpOutcome> {
  return inTransaction(pool, async (client) => {
    // The row lock serialises runs (cron, tests) and makes a merge's rewind wait for a run in flight.
    const { rows } = await client.query<{ from: string; to: string; due: boolean }>(
      `select r.from::text, r.to::text, r.to > r.from as due
         from (select greatest(rolled_up_to, date_trunc('minute', now() - interval '24 hours')) as from,
                      date_trunc('minute', now() - interval '3 minutes') as to
                 from results_per_minute_state for update) r`,
    );
    const range = rows[0];
    if (!range?.due) return { from: null, to: null, rows: 0 };
    await client.query('delete from results_per_minute where minute >= $1 and minute < $2', [range.from, range.to]);
    const ins = await client.query(
      `insert into results_per_minute (minute, type, results)
       select date_trunc('minute', received_at), type, count(*) from measurements.results
        where received_at >= $1 and received_at < $2 group by 1, 2`,
      [range.from, range.to],
    );
    await client.query('update results_per_minute_state set rolled_up_to = $1', [range.to]);
    // /stats reads 24 hours; twice that leaves room without keeping minutes forever when nothing rotates.
    await client.query(`delete from results_per_minute where minute < now() - interval '48 hours'`);
    return { from: range.from, to: range.to, rows: ins.rowCount ?? 0 };
  });
}

/**
 * Results were stored with a received_at of `since` or later that may fall in minutes already rolled up (a merge
 * keeps each result's received_at): /stats counts them live from there on, and the next rollup recounts them.
 */
export async function rewindResultsPerMinute(db: Pool | PoolClient, since: string): Promise<void> {
  await db.query(
    `update results_per_minute_state set rolled_up_to = date_trunc('minute', $1::timestamptz) where rolled_up_to > $1::timestamptz`,
    [since],
  );
}

/** Rotation retired every partition up to `day` (UTC, inclusive): their minutes' counts go with them. */
export async function forgetResultsPerMinuteThrough(db: Pool | PoolClient, day: string): Promise<void> {
  await db.query(`delete from results_per_minute where minute < ($1::date + 1)::timestamp at time zone 'UTC'`, [day]);
}

/**
 * Results received in the last 24 hours per hour and type (the hour's start in the session's time zone, as
 * date_trunc gives it). Sums results_per_minute for the rolled-up whole minutes and counts live only the rest: the
 * partial first minute of the window and what came after the last rolled-up minute. Counting all of it live took
 * 163 ms at 10^6 results over 7 days and grew with them; this reads at most 1,440 rows per type plus a few minutes
 * of results.
 */
export async function resultsByHour(
  db: Pool | PoolClient,
): Promise<Array<{ hour: Date; type: string; results: number }>> {
  // The bounds first, as values: with them in the same statement the planner could neither prune partitions nor
  // size the ranges, estimated a scan of every partition and spent ~70 ms compiling it (JIT) at 10^6 results.
  const b = await db.query<{ since: string; lo: string; hi: string }>(
    `select since::text, lo::text, greatest(lo, rolled_up_to)::text as hi
       from (select now() - interval '24 hours' as since, date_trunc('minute', now() - interval '24 hours') + interval '1 minute' as lo) w,
            results_per_minute_state`,
  );
  const { since, lo, hi } = b.rows[0]!;
  const { rows } = await db.query<{ hour: Date; type: string; results: number }>(
    `select hour, type, sum(n)::int as results from (
       select date_trunc('hour', minute) as hour, type, sum(results) as n
         from results_per_minute where minute >= $2 and minute < $3 group by 1, 2
       union all
       select date_trunc('hour', received_at), type, count(*)
         from measurements.results where received_at > $1 and received_at < $2 group by 1, 2
       union all
       select date_trunc('hour', received_at), type, count(*)
         from measurements.results where received_at >= $3 group by 1, 2
     ) counted group by 1, 2 order by 1 desc, 2`,
    [since, lo, hi],
  );
  return rows;
}

const rollUpTask =
  (pool: Pool): Task =>
  async (_payload, helpers) => {
    const out = await rollUpResultsPerMinute(pool);
    if (out.rows > 0) helpers.logger.debug(`rolled up results from ${out.from} to ${out.to} into ${out.rows} rows`);
  };

/** For the output service's job runner. */
export const resultsPerMinuteTasks = (pool: Pool) => ({ roll_up_results_per_minute: rollUpTask(pool) });
export const resultsPerMinuteCrontab = ['* * * * * roll_up_results_per_minute ?max=1'];
