import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool } from '../../db/create-pool.js';
import { apiKeys } from '../../db/schema/manager.js';
import { generateApiKey } from './api-key-secret.js';

export type ApiKeyRecord = typeof apiKeys.$inferSelect;
/** The scope every key has for now: the gateway's worker endpoints (targets, results, hops). */
export const WORKER_SCOPE = 'worker';

/** Creates a key; the key itself is returned here once and stored only as its hash. */
export async function createApiKey(pool: Pool, opts: { name: string; createdBy?: string | undefined; scope?: string }): Promise<{ key: string; record: ApiKeyRecord }> {
  const db = drizzle({ client: pool });
  for (let attempt = 0; ; attempt++) {
    const secret = generateApiKey();
    const [record] = await db
      .insert(apiKeys)
      .values({ name: opts.name, prefix: secret.prefix, keyHash: secret.hash, role: opts.scope ?? WORKER_SCOPE, createdBy: opts.createdBy ?? null })
      .onConflictDoNothing({ target: apiKeys.prefix })
      .returning();
    // A prefix collision (48 bits) is next to impossible; draw again rather than fail.
    if (record) return { key: secret.key, record };
    if (attempt >= 3) throw new Error('could not draw an unused API key prefix');
  }
}

export function listApiKeys(pool: Pool): Promise<ApiKeyRecord[]> {
  return drizzle({ client: pool }).select().from(apiKeys).orderBy(sql`${apiKeys.revokedAt} is not null`, desc(apiKeys.createdAt));
}

export async function findApiKeyByPrefix(pool: Pool, prefix: string): Promise<ApiKeyRecord | undefined> {
  const [row] = await drizzle({ client: pool }).select().from(apiKeys).where(eq(apiKeys.prefix, prefix));
  return row;
}

/** Revokes a key (keeping the first revocation time); undefined when there is no such key. */
export async function revokeApiKey(pool: Pool, id: string): Promise<ApiKeyRecord | undefined> {
  const db = drizzle({ client: pool });
  const [row] = await db.update(apiKeys).set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` }).where(eq(apiKeys.id, id)).returning();
  return row;
}

/** Records use at most once a minute per key across all manager instances: a busy worker must not write per request. */
export async function touchApiKey(pool: Pool, id: string): Promise<void> {
  await drizzle({ client: pool })
    .update(apiKeys)
    .set({ lastUsedAt: sql`now()` })
    .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, sql`now() - interval '1 minute'`))));
}

export function apiKeyJson(k: ApiKeyRecord) {
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
