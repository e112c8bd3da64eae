import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  cidr,
  customType,
  index,
  inet,
  integer,
  pgTable,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** PostgreSQL's multirange of bigints: the hop ids a consumer has been served, merged into few ranges. */
const int8multirange = customType<{ data: string; driverData: string }>({ dataType: () => 'int8multirange' });

/** A target file as last imported, so re-importing an unchanged file is a no-op. */
export const targetSources = pgTable('target_sources', {
  source: text('source').primaryKey(),
  sha256: text('sha256').notNull(),
  lines: integer('lines').notNull(),
  blocks: integer('blocks').notNull(),
  skipped: integer('skipped').notNull(),
  importedAt: timestamp('imported_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * One row per CIDR of a target file, never one per address: a /8 costs one row and is walked lazily.
 * `effective` = active and not inside another active block (so overlapping files never serve an address twice).
 * `shuffleKey` is a hash of the CIDR: the ring order consumers walk, identical in every database.
 */
export const targetBlocks = pgTable(
  'target_blocks',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    source: text('source').notNull(),
    line: integer('line').notNull(),
    cidr: cidr('cidr').notNull(),
    family: smallint('family').notNull(),
    walkSize: bigint('walk_size', { mode: 'number' }).notNull(),
    shuffleKey: integer('shuffle_key').notNull(),
    active: boolean('active').notNull().default(true),
    effective: boolean('effective').notNull().default(false),
    addedAt: timestamp('added_at', { withTimezone: true }).notNull().defaultNow(),
    removedAt: timestamp('removed_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('target_blocks_source_cidr_idx').on(t.source, t.cidr),
    index('target_blocks_ring_idx')
      .on(t.shuffleKey, t.cidr)
      .where(sql`${t.effective}`),
    index('target_blocks_cidr_gist_idx')
      .using('gist', t.cidr.op('inet_ops'))
      .where(sql`${t.active}`),
    check('target_blocks_family_check', sql`${t.family} in (4, 6)`),
  ],
);

/** Discovered hops that became targets, once each globally; `id` order is arrival order (freshest = highest). */
export const hops = pgTable(
  'hops',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    address: inet('address').notNull(),
    family: smallint('family').notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('hops_address_idx').on(t.address)],
);

/** Never probed, whatever the source: a do-not-probe list of CIDRs. */
export const targetExclusions = pgTable('target_exclusions', {
  cidr: cidr('cidr').primaryKey(),
  reason: text('reason').notNull(),
  addedAt: timestamp('added_at', { withTimezone: true }).notNull().defaultNow(),
});

/** A consumer's walk through the pool: its pass, where it is on the block ring, which hops it has had. */
export const consumers = pgTable('consumers', {
  id: text('id').primaryKey(),
  pass: integer('pass').notNull().default(1),
  passStartedAt: timestamp('pass_started_at', { withTimezone: true }).notNull().defaultNow(),
  cooldownUntil: timestamp('cooldown_until', { withTimezone: true }),
  ringStart: integer('ring_start').notNull(),
  ringCursorKey: integer('ring_cursor_key'),
  ringCursorCidr: cidr('ring_cursor_cidr'),
  ringWrapped: boolean('ring_wrapped').notNull().default(false),
  ringDone: boolean('ring_done').notNull().default(false),
  // No column defaults on arrays and multiranges: drizzle-kit reads them back differently (drift test); inserts give them.
  hopsServed: int8multirange('hops_served').notNull(),
  lastPrefix: text('last_prefix'),
  rrSlot: integer('rr_slot').notNull().default(0),
  servedInPass: bigint('served_in_pass', { mode: 'number' }).notNull().default(0),
  servedTotal: bigint('served_total', { mode: 'number' }).notNull().default(0),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
});

/** The blocks a consumer is walking right now (at most ten), with how far it has got in each. */
export const consumerBlocks = pgTable(
  'consumer_blocks',
  {
    consumerId: text('consumer_id')
      .notNull()
      .references(() => consumers.id, { onDelete: 'cascade' }),
    blockId: bigint('block_id', { mode: 'number' })
      .notNull()
      .references(() => targetBlocks.id, { onDelete: 'cascade' }),
    position: bigint('position', { mode: 'number' }).notNull().default(0),
    slot: smallint('slot').notNull(),
  },
  // A unique index rather than a composite primary key: drizzle-kit 0.31's introspection (our drift test) fails on those.
  (t) => [uniqueIndex('consumer_blocks_consumer_block_idx').on(t.consumerId, t.blockId)],
);

/**
 * A batch handed to a consumer. Targets and acknowledgements are arrays on the lease (one row per batch,
 * not per target, keeps serving cheap); an expired lease's unacknowledged targets go back to its consumer.
 * `reissues[i]` is how many times `targets[i]` had already been re-issued unacknowledged (null: none was),
 * so a target re-issued more than `--max-reissues` times is set aside instead (`set_aside_targets`).
 */
export const leases = pgTable(
  'leases',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    consumerId: text('consumer_id')
      .notNull()
      .references(() => consumers.id, { onDelete: 'cascade' }),
    pass: integer('pass').notNull(),
    targets: inet('targets').array().notNull(),
    acked: inet('acked').array().notNull(),
    state: text('state').notNull().default('open'),
    issuedAt: timestamp('issued_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    reissuedFrom: uuid('reissued_from'),
    reissues: smallint('reissues').array(),
  },
  (t) => [
    index('leases_open_idx')
      .on(t.consumerId, t.expiresAt)
      .where(sql`${t.state} = 'open'`),
    index('leases_closed_idx')
      .on(t.closedAt)
      .where(sql`${t.state} <> 'open'`),
    check('leases_state_check', sql`${t.state} in ('open', 'done', 'reissued', 'set_aside')`),
  ],
);

/**
 * Targets a consumer never acknowledged however often they were re-issued: not served again in that pass
 * (they come back in its next one as usual), so a consumer that never acknowledges cannot keep a pass going.
 */
export const setAsideTargets = pgTable(
  'set_aside_targets',
  {
    consumerId: text('consumer_id')
      .notNull()
      .references(() => consumers.id, { onDelete: 'cascade' }),
    pass: integer('pass').notNull(),
    address: inet('address').notNull(),
    setAsideAt: timestamp('set_aside_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('set_aside_targets_consumer_pass_address_idx').on(t.consumerId, t.pass, t.address)],
);

/**
 * One row whose version a trigger bumps on every change to target_exclusions (migration 0003), so each
 * instance keeps the do-not-probe list in memory and reloads it only when it changed.
 */
export const targetExclusionsVersion = pgTable('target_exclusions_version', {
  id: smallint('id').primaryKey(),
  version: bigint('version', { mode: 'number' }).notNull(),
});
