import type { Pool } from '../../db/create-pool.js';

/** Deletes expired sessions and rate-limit counters; a cron job runs it once cluster-wide. */
export async function pruneAuthState(pool: Pool): Promise<{ sessions: number; rateLimits: number }> {
  const sessions = await pool.query('delete from manager.manager_sessions where expire < now()');
  // rate_limits.expire is epoch milliseconds (rate-limiter-flexible's layout); null means never expires.
  const rateLimits = await pool.query('delete from manager.rate_limits where expire < $1', [Date.now() - 3_600_000]);
  return { sessions: sessions.rowCount ?? 0, rateLimits: rateLimits.rowCount ?? 0 };
}
