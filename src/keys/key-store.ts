import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool } from '../db/create-pool.js';
import { apiKeys } from '../db/schema/manager.js';
import { isValidKeyName, KEY_NAME_RULE } from './key-name.js';
import { generateApiKey } from './key-secret.js';

export type KeyRecord = typeof apiKeys.$inferSelect;

/**
 * What a key may do. worker: lease targets and post results; feeder: post hops (an output's --input-url);
 * admin: everything, including dumps, rotation, exclusions and the query endpoints.
 */
export const ROLES = ['worker', 'feeder', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (s: string): s is Role => (ROLES as readonly string[]).includes(s);

export class KeyNameError extends Error {
  override name = 'KeyNameError';
}

/** Creates a key; the key itself is returned here once and stored only as its hash. */
export async function createKey(
  pool: Pool,
  opts: { name: string; role: Role; createdBy?: string | undefined },
): Promise<{ key: string; record: KeyRecord }> {
  if (!isValidKeyName(opts.name))
    throw new KeyNameError(`invalid key name ${JSON.stringify(opts.name)}: use ${KEY_NAME_RULE}`);
  const db = drizzle({ client: pool });
  for (let attempt = 0; ; attempt++) {
    const secret = generateApiKey();
    const [record] = await db
      .insert(apiKeys)
      .values({
        name: opts.name,
        prefix: secret.prefix,
        keyHash: secret.hash,
        role: opts.role,
        createdBy: opts.createdBy ?? null,
      })
      .onConflictDoNothing({ target: apiKeys.prefix })
      .returning();
    // A prefix collision (48 bits) is next to impossible; draw again rather than fail.
    if (record) return { key: secret.key, record };
    if (attempt >= 3) throw new Error('could not draw an unused API key prefix');
  }
}

/** Active keys first, newest first. */
export function listKeys(pool: Pool): Promise<KeyRecord[]> {
  return drizzle({ client: pool })
    .select()
    .from(apiKeys)
    .orderBy(sql`${apiKeys.revokedAt} is not null`, desc(apiKeys.createdAt));
}

export async function findKeyByPrefix(pool: Pool, prefix: string): Promise<KeyRecord | undefined> {
  const [row] = await drizzle({ client: pool }).select().from(apiKeys).where(eq(apiKeys.prefix, prefix));
  return row;
}

/** Revokes a key (keeping the first revocation time); undefined when there is no such key. */
export async function revokeKey(pool: Pool, id: string): Promise<KeyRecord | undefined> {
  const db = drizzle({ client: pool });
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
    .where(eq(apiKeys.id, id))
    .returning();
  return row;
}

/** Revokes every active key of that name (`hopmap keys revoke NAME`); the revoked rows. */
export function revokeKeysByName(pool: Pool, name: string): Promise<KeyRecord[]> {
  return drizzle({ client: pool })
    .update(apiKeys)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiKeys.name, name), isNull(apiKeys.revokedAt)))
    .returning();
}

/** Records use at most once a minute per key across all instances: a busy worker must not write per request. */
export async function touchKey(pool: Pool, id: string): Promise<void> {
  await drizzle({ client: pool })
    .update(apiKeys)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, sql`now() - interval '1 minute'`))),
    );
}

export function keyJson(k: KeyRecord) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    role: k.role,
    created_by: k.createdBy,
    created_at: k.createdAt.toISOString(),
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
    revoked_at: k.revokedAt?.toISOString() ?? null,
  };
}
