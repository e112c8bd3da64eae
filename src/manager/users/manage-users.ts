import type { Pool } from '../../db/create-pool.js';
import { inTransaction } from '../../db/in-transaction.js';
import type { users } from '../../db/schema/manager.js';
import type { TableRow } from '../../db/table-row.js';
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
  const sealed = sealUserSecret(serverKey, name, secret);
  const { rowCount } = await pool.query(
    `insert into manager.users (name, user_key_sealed, totp_secret_sealed) values ($1, $2, $3)
     on conflict (name) do nothing`,
    [name, sealed.userKeySealed, sealed.totpSecretSealed],
  );
  if (!rowCount)
    throw new UserError(`user '${name}' already exists (hopmap user remove ${name} first to give it a new secret)`);
  return { name, secret: totpSecretBase32(secret), uri: totpUri(name, secret) };
}

export type UserSummary = Pick<typeof users.$inferSelect, 'name' | 'createdAt' | 'lastLoginAt'>;

export async function listUsers(pool: Pool): Promise<UserSummary[]> {
  const { rows } = await pool.query<UserSummary>(
    `select name, created_at as "createdAt", last_login_at as "lastLoginAt" from manager.users order by name`,
  );
  return rows;
}

/** Removes the user and ends every session of theirs on every instance; returns how many sessions ended. */
export async function removeUser(pool: Pool, name: string): Promise<{ sessionsEnded: number }> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<Pick<TableRow<typeof users>, 'id'>>(
      'delete from manager.users where name = $1 returning id',
      [name],
    );
    const row = rows[0];
    if (!row) throw new UserError(`no user '${name}' (hopmap user list shows who there is)`);
    const ended = await client.query(
      `delete from manager.manager_sessions where (sess -> 'user' ->> 'id')::bigint = $1`,
      [row.id],
    );
    return { sessionsEnded: ended.rowCount ?? 0 };
  });
}
