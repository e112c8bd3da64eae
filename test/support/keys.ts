import { createPool } from '../../src/db/create-pool.js';
import { createKey, type Role } from '../../src/keys/key-store.js';
import { quietLog } from './test-databases.js';

/**
 * Makes a key in the test's database, as `hopmap keys add NAME --role ROLE` would, and returns the secret.
 * A worker key named after the consumer id a test sends leases under that very id (src/input/consumer-id.ts).
 */
export async function testKey(databaseUrl: string, role: Role, name = `test-${role}`): Promise<string> {
  const pool = createPool(databaseUrl, quietLog, { max: 1 });
  try {
    return (await createKey(pool, { name, role, createdBy: 'test' })).key;
  } finally {
    await pool.end();
  }
}

/** The request header that carries a key. */
export const bearer = (key: string): { authorization: string } => ({ authorization: `Bearer ${key}` });

/** One worker key per consumer id, each named after it (so it leases under that id), as headers by id. */
export async function workerKeys(
  databaseUrl: string,
  consumers: readonly string[],
): Promise<Map<string, { authorization: string }>> {
  const keys = new Map<string, { authorization: string }>();
  for (const c of consumers) keys.set(c, bearer(await testKey(databaseUrl, 'worker', c)));
  return keys;
}
