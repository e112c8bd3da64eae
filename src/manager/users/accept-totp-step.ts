import type { Pool } from '../../db/create-pool.js';

/**
 * Records `step` as the user's last accepted TOTP step, only if it is newer than the last one, in one
 * statement: two instances given the same code at the same moment cannot both succeed, because the second
 * update waits for the first's row lock and then no longer matches. False means the code was a replay.
 */
export async function acceptTotpStep(pool: Pool, userId: number, step: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `update manager.users set last_totp_step = $2, last_login_at = now()
      where id = $1 and (last_totp_step is null or last_totp_step < $2)
      returning id`,
    [userId, step],
  );
  return rowCount === 1;
}
