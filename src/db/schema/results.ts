import { bigint, doublePrecision, inet, pgTable, real, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

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
