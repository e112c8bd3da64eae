import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool } from '../../db/create-pool.js';
import { users } from '../../db/schema/manager.js';

export async function findUser(pool: Pool, name: string) {
  const [row] = await drizzle({ client: pool })
    .select({
      id: users.id,
      name: users.name,
      userKeySealed: users.userKeySealed,
      totpSecretSealed: users.totpSecretSealed,
    })
    .from(users)
    .where(eq(users.name, name));
  return row;
}
