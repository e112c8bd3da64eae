import type { Pool } from '../../db/create-pool.js';
import { int8 } from '../../db/int8.js';
import type { users } from '../../db/schema/manager.js';

type User = Pick<typeof users.$inferSelect, 'id' | 'name' | 'userKeySealed' | 'totpSecretSealed'>;

/** The user of that name with their sealed secrets (login step 2), or undefined. */
export async function findUser(pool: Pool, name: string): Promise<User | undefined> {
  const { rows } = await pool.query<Omit<User, 'id'> & { id: string }>(
    `select id, name, user_key_sealed as "userKeySealed", totp_secret_sealed as "totpSecretSealed"
       from manager.users where name = $1`,
    [name],
  );
  const row = rows[0];
  return row && { ...row, id: int8(row.id) };
}
