import {
  bigint,
  bigserial,
  boolean,
  index,
  inet,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * Every distinct path seen, stored once: per TTL from 1, the sorted addresses that answered ([] for `*`).
 * `hash` is md5 of the canonical JSON and `reached` (src/results/route-paths.ts).
 */
export const paths = pgTable(
  'paths',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    hash: uuid('hash').notNull(),
    hops: jsonb('hops').$type<string[][]>().notNull(),
    reached: boolean('reached').notNull(),
    /** Multipath TTLs where some flows got no answer: a branch may hide there (a silent router). */
    silentTtls: integer('silent_ttls').array().notNull().default([]),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('paths_hash_idx').on(t.hash)],
);

/**
 * How long one route (worker, target, method, flow) stayed on one path: a new span starts when a trace shows
 * a different path. `flow` is the Paris flow identifier of a single-flow traceroute, -1 for a multipath (MDA)
 * trace, whose path is every branch at once.
 */
export const routeSpans = pgTable(
  'route_spans',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    worker: text('worker').notNull(),
    target: inet('target').notNull(),
    method: text('method').notNull(),
    flow: integer('flow').notNull(),
    pathId: bigint('path_id', { mode: 'number' }).notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
    observations: bigint('observations', { mode: 'number' }).notNull(),
    firstResult: uuid('first_result').notNull(),
    lastResult: uuid('last_result').notNull(),
  },
  (t) => [
    index('route_spans_route_idx').on(t.worker, t.target, t.method, t.flow, t.firstSeenAt),
    index('route_spans_target_idx').on(t.target, t.firstSeenAt),
  ],
);

/** The open span of each route; its row is what concurrent ingesters lock to order a route's observations. */
export const routeCurrent = pgTable(
  'route_current',
  {
    worker: text('worker').notNull(),
    target: inet('target').notNull(),
    method: text('method').notNull(),
    flow: integer('flow').notNull(),
    spanId: bigint('span_id', { mode: 'number' }),
  },
  // A unique index, not a composite primary key: drizzle-kit's introspection fails on the latter (schema-drift test).
  (t) => [uniqueIndex('route_current_route_idx').on(t.worker, t.target, t.method, t.flow)],
);

/** A route that moved to another path: the span it left and the span it entered, with both paths. */
export const routeChanges = pgTable(
  'route_changes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    worker: text('worker').notNull(),
    target: inet('target').notNull(),
    method: text('method').notNull(),
    flow: integer('flow').notNull(),
    beforeSpanId: bigint('before_span_id', { mode: 'number' }).notNull(),
    afterSpanId: bigint('after_span_id', { mode: 'number' }).notNull(),
    beforePathId: bigint('before_path_id', { mode: 'number' }).notNull(),
    afterPathId: bigint('after_path_id', { mode: 'number' }).notNull(),
    /** The first TTL at which the two paths answered differently. */
    divergeTtl: integer('diverge_ttl').notNull(),
    /** When the old path was last seen and the new one first seen (measurement times): the change lies between. */
    beforeLastSeenAt: timestamp('before_last_seen_at', { withTimezone: true }).notNull(),
    afterFirstSeenAt: timestamp('after_first_seen_at', { withTimezone: true }).notNull(),
    resultId: uuid('result_id').notNull(),
    detectedAt: timestamp('detected_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('route_changes_seen_idx').on(t.afterFirstSeenAt),
    index('route_changes_route_idx').on(t.worker, t.target, t.afterFirstSeenAt),
  ],
);
