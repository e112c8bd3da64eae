import { sql } from 'drizzle-orm';
import { bigint, check, index, inet, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * What alias measurements said about a pair of interface addresses, one row per pair and method (a < b):
 * how many times each verdict was given, when, and by which workers. Observations are folded in by one
 * upsert per batch (src/aliases/store-alias-evidence.ts), so the table grows with pairs, not with results.
 */
export const aliasEvidence = pgTable(
  'alias_evidence',
  {
    a: inet('a').notNull(),
    b: inet('b').notNull(),
    method: text('method').notNull(),
    aliasCount: bigint('alias_count', { mode: 'number' }).notNull(),
    distinctCount: bigint('distinct_count', { mode: 'number' }).notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
    workers: text('workers').array().notNull(),
  },
  (t) => [
    uniqueIndex('alias_evidence_pair_method_idx').on(t.a, t.b, t.method),
    index('alias_evidence_b_idx').on(t.b),
    check('alias_evidence_order_check', sql`${t.a} < ${t.b}`),
    check('alias_evidence_method_check', sql`${t.method} in ('discarte', 'timestamp', 'mercator', 'ally')`),
  ],
);

/**
 * The interfaces of every router with more than one known interface, as the last resolution
 * (src/aliases/resolve-routers.ts) found them. A router's id is its smallest address; an address with no row
 * here is a router of its own whose id is the address itself.
 */
export const routerInterfaces = pgTable(
  'router_interfaces',
  {
    address: inet('address').primaryKey(),
    routerId: inet('router_id').notNull(),
  },
  (t) => [index('router_interfaces_router_idx').on(t.routerId)],
);

/** One row per router of router_interfaces: how many interfaces, how many evidence pairs joined them, since when. */
export const routers = pgTable('routers', {
  id: inet('id').primaryKey(),
  interfaces: integer('interfaces').notNull(),
  aliasPairs: integer('alias_pairs').notNull(),
  resolvedAt: timestamp('resolved_at', { withTimezone: true }).notNull().defaultNow(),
});
