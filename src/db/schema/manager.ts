import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgSchema,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
  json,
} from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

/**
 * Everything the manager keeps (operators, sessions, keys, certificates, ACME, rate limits, dy.fi, registered
 * services) lives in a schema of its own, so `GET /dump` carries none of its rows (`--exclude-table-data=manager.*`) and a
 * table added here later can never leak into a dump by being forgotten in a list.
 */
export const managerSchema = pgSchema('manager');

/**
 * Operators of the manager. The TOTP secret is sealed twice: with the user's own key, which is itself sealed
 * with the server key (SERVER_KEY, never in the database), both AES-256-GCM; a stolen database alone
 * reveals no secret (src/manager/users/).
 */
export const users = managerSchema.table(
  'users',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    name: text('name').notNull(),
    /** The user's key sealed with the server key (base64 of iv | tag | ciphertext). */
    userKeySealed: text('user_key_sealed').notNull(),
    /** The TOTP secret sealed with the user's key. */
    totpSecretSealed: text('totp_secret_sealed').notNull(),
    /** The last TOTP time step accepted: a code of this step or an earlier one is a replay. */
    lastTotpStep: bigint('last_totp_step', { mode: 'number' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastLoginAt: timestamp('last_login_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('users_name_idx').on(t.name)],
);

/** Sessions of every manager instance (connect-pg-simple's table layout), so any instance answers any request. */
export const managerSessions = managerSchema.table(
  'manager_sessions',
  {
    sid: varchar('sid').primaryKey(),
    sess: json('sess').notNull(),
    expire: timestamp('expire', { precision: 6 }).notNull(),
  },
  (t) => [index('manager_sessions_expire_idx').on(t.expire)],
);

/** rate-limiter-flexible's RateLimiterPostgres layout, created here so instances never race to create it. */
export const rateLimits = managerSchema.table('rate_limits', {
  key: varchar('key', { length: 255 }).primaryKey(),
  points: integer('points').notNull().default(0),
  expire: bigint('expire', { mode: 'number' }),
});

/**
 * Keys for workers, feeders and operators at every service's door (input, output, the manager's gateway): stored as a SHA-256 of the key (the
 * key is 256 random bits, so no slow hash is needed); `prefix` finds the row and is safe to show.
 */
export const apiKeys = managerSchema.table(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull(),
    /** What the key may do: worker (lease targets, post results), feeder (post hops) or admin (everything). */
    role: text('role').notNull().default('worker'),
    createdBy: text('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('api_keys_prefix_idx').on(t.prefix),
    check('api_keys_role_check', sql`${t.role} in ('worker', 'feeder', 'admin')`),
  ],
);

/**
 * Workers and services registered by URL. Their type, name and version come from /service-info; health
 * polling (a graphile-worker cron job, once a minute across all instances) keeps status and metrics.
 */
export const registeredServices = managerSchema.table(
  'registered_services',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    url: text('url').notNull(),
    name: text('name').notNull(),
    serviceType: text('service_type').notNull(),
    instanceId: text('instance_id'),
    version: text('version'),
    capabilities: jsonb('capabilities').$type<string[]>().notNull().default([]),
    /** unknown | ok | degraded | down */
    status: text('status').notNull().default('unknown'),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
    lastCheckedAt: timestamp('last_checked_at', { withTimezone: true }),
    lastError: text('last_error'),
    /** Key figures from the last /health: counters, spool depth, pps, uptime. */
    details: jsonb('details').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('registered_services_url_idx').on(t.url)],
);

/** TLS certificates every manager instance serves (one per domain, newest wins); the key sealed with the server key. */
export const tlsCertificates = managerSchema.table(
  'tls_certificates',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    domain: text('domain').notNull(),
    /** self-signed | acme | file */
    source: text('source').notNull(),
    certPem: text('cert_pem').notNull(),
    keySealed: text('key_sealed').notNull(),
    notBefore: timestamp('not_before', { withTimezone: true }).notNull(),
    notAfter: timestamp('not_after', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('tls_certificates_domain_idx').on(t.domain, t.notAfter)],
);

/** ACME accounts by directory URL and email; the account key sealed with the server key. */
export const acmeAccounts = managerSchema.table(
  'acme_accounts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    directoryUrl: text('directory_url').notNull(),
    email: text('email').notNull(),
    keySealed: text('key_sealed').notNull(),
    accountUrl: text('account_url'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('acme_accounts_directory_email_idx').on(t.directoryUrl, t.email)],
);

/** ACME http-01 challenge answers, so whichever instance the CA reaches can answer. */
export const acmeChallenges = managerSchema.table('acme_challenges', {
  token: text('token').primaryKey(),
  keyAuthorization: text('key_authorization').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Dynamic DNS (dy.fi): which instance the name points at, and the last update. */
export const ddnsState = managerSchema.table('ddns_state', {
  domain: text('domain').primaryKey(),
  /** The manager instance whose address the name was last set to. */
  holderInstance: text('holder_instance'),
  holderUrl: text('holder_url'),
  address: text('address'),
  lastUpdateAt: timestamp('last_update_at', { withTimezone: true }),
  lastResult: text('last_result'),
  updates: integer('updates').notNull().default(0),
  ok: boolean('ok'),
});
