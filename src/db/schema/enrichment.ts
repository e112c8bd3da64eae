import { sql } from 'drizzle-orm';
import { bigint, check, cidr, inet, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Address → AS ranges from @ip-location-db/asn, loaded whole by `hopmap enrich load`. Ranges are disjoint, so
 * the primary key on `first` is the btree a lookup walks backwards: the last range starting at or before it.
 */
export const asnRanges = pgTable('asn_ranges', {
  first: inet('first').primaryKey(),
  last: inet('last').notNull(),
  asn: bigint('asn', { mode: 'number' }).notNull(),
  org: text('org').notNull(),
});

/** Address → country ranges from @ip-location-db/dbip-country, shaped and looked up like asn_ranges. */
export const countryRanges = pgTable('country_ranges', {
  first: inet('first').primaryKey(),
  last: inet('last').notNull(),
  country: text('country').notNull(),
});

/** Which package version each range table holds (`asn`, `country`), so reloading the same data is a no-op. */
export const enrichmentSources = pgTable('enrichment_sources', {
  source: text('source').primaryKey(),
  package: text('package').notNull(),
  version: text('version').notNull(),
  rows: bigint('rows', { mode: 'number' }).notNull(),
  loadedAt: timestamp('loaded_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Operator-declared ranges (`hopmap enrich local`): prefix → AS for space the public data does not cover (private,
 * shared, benchmarking, a lab), replaced whole on each load and recorded in enrichment_sources as `local`. Ranges may
 * nest; the most specific one holding an address wins, found by primary-key probes, one per prefix length in use
 * (a GiST `>>=` probe was 20 times slower: lookup-addresses.ts).
 */
export const localRanges = pgTable('local_ranges', {
  prefix: cidr('prefix').primaryKey(),
  asn: bigint('asn', { mode: 'number' }).notNull(),
  org: text('org').notNull(),
  country: text('country'),
});

/**
 * What is known about one hop address; `data_version` names the range data it was looked up in, `source` where its
 * AS came from: `declared` (local_ranges) or `ip-location-db` (the public data). Only a declared range may give an
 * AS or a country to space that is not public.
 */
export const addressInfo = pgTable(
  'address_info',
  {
    address: inet('address').primaryKey(),
    kind: text('kind').notNull(),
    asn: bigint('asn', { mode: 'number' }),
    asOrg: text('as_org'),
    country: text('country'),
    dataVersion: text('data_version'),
    source: text('source'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check(
      'address_info_public_only_check',
      sql`${t.kind} = 'public' or ${t.source} is not distinct from 'declared' or (${t.asn} is null and ${t.country} is null)`,
    ),
    check('address_info_source_check', sql`${t.source} in ('declared', 'ip-location-db')`),
  ],
);
