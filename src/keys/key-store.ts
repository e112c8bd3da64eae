import type { Pool } from '../db/create-pool.js';
import type { apiKeys } from '../db/schema/manager.js';
import { isValidKeyName, KEY_NAME_RULE } from './key-name.js';
import { generateApiKey } from './key-secret.js';

export type KeyRecord = typeof apiKeys.$inferSelect;

/** A key's row under its schema names (KeyRecord); api_keys has no int8 column, so the driver's values are its types. */
const KEY_COLUMNS = `id, name, prefix, key_hash as "keyHash", role, created_by as "createdBy", created_at as "createdAt",
  last_used_at as "lastUsedAt", revoked_at as "revokedAt"`;

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
  for (let attempt = 0; ; attempt++) {
    const secret = generateApiKey();
    const { rows } = await pool.query<KeyRecord>(
      `insert into manager.api_keys (name, prefix, key_hash, role, created_by) values ($1, $2, $3, $4, $5)
       on conflict (prefix) do nothing returning ${KEY_COLUMNS}`,
      [opts.name, secret.prefix, secret.hash, opts.role, opts.createdBy ?? null],
    );
    const record = rows[0];
    // A prefix collision (48 bits) is next to impossible; draw again rather than fail.
    if (record) return { key: secret.key, record };
    if (attempt >= 3) throw new Error('could not draw an unused API key prefix');
  }
}

/** Active keys first, newest first. */
export async function listKeys(pool: Pool): Promise<KeyRecord[]> {
  const { rows } = await pool.query<KeyRecord>(
    `select ${KEY_COLUMNS} from manager.api_keys order by revoked_at is not null, created_at desc`,
  );
  return rows;
}

/** On every request that carries a key (src/keys/require-role.ts): one probe of the unique index on prefix. */
export async function findKeyByPrefix(pool: Pool, prefix: string): Promise<KeyRecord | undefined> {
  const { rows } = await pool.query<KeyRecord>(`select ${KEY_COLUMNS} from manager.api_keys where prefix = $1`, [
    prefix,
  ]);
  return rows[0];
}

/** Revokes a key (keeping the first revocation time); undefined when there is no such key. */
export async function revokeKey(pool: Pool, id: string): Promise<KeyRecord | undefined> {
  const { rows } = await pool.query<KeyRecord>(
    `update manager.api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1 returning ${KEY_COLUMNS}`,
    [id],
  );
  return rows[0];
}

/** Revokes every active key of that name (`hopmap keys revoke NAME`); the revoked rows. */
export async function revokeKeysByName(pool: Pool, name: string): Promise<KeyRecord[]> {
  const { rows } = await pool.query<KeyRecord>(
    `update manager.api_keys set revoked_at = now() where name = $1 and revoked_at is null returning ${KEY_COLUMNS}`,
    [name],
  );
  return rows;
}

/** Records use at most once a minute per key across all instances: a busy worker must not write per request. */
export async function touchKey(pool: Pool, id: string): Promise<void> {
  await pool.query(
    `update manager.api_keys set last_used_at = now()
      where id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')`,
    [id],
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
