import type { Pool, PoolClient } from './create-pool.js';

/**
 * Runs `fn` in a transaction on one client: commit when it resolves, rollback when it throws. A client whose
 * rollback fails too (its connection died) is destroyed rather than returned to the pool.
 */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
