import { asc, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool } from '../../db/create-pool.js';
import { inTransaction } from '../../db/in-transaction.js';
import { users } from '../../db/schema/manager.js';
import { newTotpSecret, totpSecretBase32, totpUri } from '../auth/totp.js';
import { isValidUserName, USER_NAME_RULE } from './user-name.js';
import { sealUserSecret } from './user-secret.js';

/** A user error whose message says what to do (a taken or unknown name, a bad name). */
export class UserError extends Error {
  override name = 'UserError';
}

export interface NewUser {
  name: string;
  /** Base32, as an authenticator app takes it when typed in. */
  secret: string;
  uri: string;
}

export async function addUser(pool: Pool, serverKey: Buffer, name: string): Promise<NewUser> {
  if (!isValidUserName(name)) throw new UserError(`invalid user name '${name}': use ${USER_NAME_RULE}`);
  const secret = newTotpSecret();
  const [row] = await drizzle({ client: pool })
    .insert(users)
    .values({ name, ...sealUserSecret(serverKey, name, secret) })
    .onConflictDoNothing({ target: users.name })
    .returning({ id: users.id });
  if (!row)
    throw new UserError(`user '${name}' already exists (hopmap user remove ${name} first to give it a new secret)`);
  return { name, secret: totpSecretBase32(secret), uri: totpUri(name, secret) };
}

export interface UserSummary {
  name: string;
  createdAt: Date;
  lastLoginAt: Date | null;
}

export function listUsers(pool: Pool): Promise<UserSummary[]> {
  return drizzle({ client: pool })
    .select({ name: users.name, createdAt: users.createdAt, lastLoginAt: users.lastLoginAt })
    .from(users)
    .orderBy(asc(users.name));
}

/** Removes the user and ends every session of theirs on every instance; returns how many sessions ended. */
export async function removeUser(pool: Pool, name: string): Promise<{ sessionsEnded: number }> {
  return inTransaction(pool, async (client) => {
    const [row] = await drizzle({ client }).delete(users).where(eq(users.name, name)).returning({ id: users.id });
    if (!row) throw new UserError(`no user '${name}' (hopmap user list shows who there is)`);
    const ended = await client.query(
      `delete from manager.manager_sessions where (sess -> 'user' ->> 'id')::bigint = $1`,
      [row.id],
    );
    return { sessionsEnded: ended.rowCount ?? 0 };
  });
}
