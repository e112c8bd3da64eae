import { createPool } from '../src/db/create-pool.js';
import { createKey, type Role } from '../src/keys/key-store.js';
import { createLogger } from '../src/log/create-logger.js';

/**
 * The Authorization header of a fresh key of `role` in the bench database: input and output refuse requests
 * without one, so every HTTP figure includes the key check a production request pays.
 */
export async function benchKeyHeaders(databaseUrl: string, role: Role): Promise<Record<string, string>> {
  const pool = createPool(databaseUrl, createLogger({ level: 'silent', pretty: false }), {
    max: 1,
    applicationName: 'hopmap-bench',
  });
  try {
    const { key } = await createKey(pool, { name: `bench-${role}`, role, createdBy: 'bench' });
    return { authorization: `Bearer ${key}` };
  } finally {
    await pool.end();
  }
}
