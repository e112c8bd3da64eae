import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Every running service instance registers here and heartbeats, so any manager instance can list what runs
 * where without asking each one; rows whose heartbeat stopped are pruned by a cron job.
 */
export const serviceInstances = pgTable(
  'service_instances',
  {
    instanceId: text('instance_id').primaryKey(),
    serviceType: text('service_type').notNull(),
    name: text('name').notNull(),
    version: text('version').notNull(),
    url: text('url'),
    hostname: text('hostname').notNull(),
    pid: integer('pid').notNull(),
    capabilities: text('capabilities').array().notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('service_instances_last_seen_idx').on(t.lastSeenAt),
    check('service_instances_type_check', sql`${t.serviceType} in ('input', 'ping', 'output', 'manager')`),
  ],
);
