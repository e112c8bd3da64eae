import type { Pool } from '../db/create-pool.js';
import { createKey, listKeys, revokeKey } from '../keys/key-store.js';

const CREATED_BY = 'hopmap up';

/**
 * The local worker's key, made afresh at each start of `up` after revoking every key an earlier start made,
 * so a key left in an old worker config opens nothing; undefined (the old ones still revoked) without a
 * worker. It is named after the worker: a worker key that sends its own name as consumer id leases as just
 * that name, so the worker's leases and results carry the same id as without keys.
 */
export async function upWorkerKey(pool: Pool, workerId: string | undefined): Promise<string | undefined> {
  for (const k of await listKeys(pool)) if (k.createdBy === CREATED_BY && !k.revokedAt) await revokeKey(pool, k.id);
  if (workerId === undefined) return undefined;
  return (await createKey(pool, { name: workerId, role: 'worker', createdBy: CREATED_BY })).key;
}
