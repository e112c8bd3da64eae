import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  doublePrecision,
  inet,
  integer,
  pgTable,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * Every result id ever stored (until retention prunes it): the idempotency check. The results themselves
 * live in `measurements.results`, partitioned by day (hand-written SQL, migration 0005), where a unique key
 * would have to include the partition key; this table makes an id unique across all partitions.
 */
export const resultIds = pgTable('result_ids', {
  id: uuid('id').primaryKey(),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Links between consecutive responding hops of one flow (ttl k and k+1), with when they were first and last
 * seen, how often, and the RTT difference across them (far end minus near end, per trace, in µs).
 */
export const links = pgTable(
  'links',
  {
    near: inet('near').notNull(),
    far: inet('far').notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
    deltaMinUs: real('delta_min_us').notNull(),
    deltaMaxUs: real('delta_max_us').notNull(),
    deltaSumUs: doublePrecision('delta_sum_us').notNull(),
  },
  (t) => [uniqueIndex('links_near_far_idx').on(t.near, t.far)],
);

/**
 * Results received per minute and type, for the closed minutes up to `results_per_minute_state.rolled_up_to`
 * (src/results/results-per-minute.ts): GET /stats sums these instead of scanning a day of results.
 */
export const resultsPerMinute = pgTable(
  'results_per_minute',
  {
    minute: timestamp('minute', { withTimezone: true }).notNull(),
    type: text('type').notNull(),
    results: integer('results').notNull(),
  },
  // A unique index, not a composite primary key: drizzle-kit's introspection fails on the latter (schema-drift test).
  (t) => [uniqueIndex('results_per_minute_minute_type_idx').on(t.minute, t.type)],
);

/** One row: the end (exclusive) of the minutes rolled up into results_per_minute; -infinity before the first run. */
export const resultsPerMinuteState = pgTable(
  'results_per_minute_state',
  {
    one: boolean('one').primaryKey().default(true),
    rolledUpTo: timestamp('rolled_up_to', { withTimezone: true })
      .notNull()
      .default(sql`'-infinity'`),
  },
  (t) => [check('results_per_minute_state_one_row_check', sql`${t.one}`)],
);
