import { sql } from 'drizzle-orm';
import { bigint, boolean, check, doublePrecision, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * The AS graph precomputed: `links` whose two ends have a public AS in `address_info`, summed per (near AS, far
 * AS), with the largest AS organisation name seen on each side (what `max(as_org)` gives). Kept up to date by
 * statement triggers on `links` and `address_info` (hand-written SQL in the migration); a change it cannot apply
 * by adding (an address leaving its AS, a row deleted) sets `as_links_state.stale` until a rebuild.
 */
export const asLinks = pgTable(
  'as_links',
  {
    nearAsn: bigint('near_asn', { mode: 'number' }).notNull(),
    farAsn: bigint('far_asn', { mode: 'number' }).notNull(),
    nearOrg: text('near_org'),
    farOrg: text('far_org'),
    links: bigint('links', { mode: 'number' }).notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
    deltaSumUs: doublePrecision('delta_sum_us').notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
  },
  // A unique index, not a composite primary key: drizzle-kit's introspection fails on the latter (schema-drift test).
  (t) => [uniqueIndex('as_links_pair_idx').on(t.nearAsn, t.farAsn)],
);

/** One row: whether `as_links` may be read (false) or waits for a rebuild (true), and when it was last rebuilt. */
export const asLinksState = pgTable(
  'as_links_state',
  {
    one: boolean('one').primaryKey().default(true),
    stale: boolean('stale').notNull(),
    rebuiltAt: timestamp('rebuilt_at', { withTimezone: true }),
  },
  (t) => [check('as_links_state_one_row_check', sql`${t.one}`)],
);
