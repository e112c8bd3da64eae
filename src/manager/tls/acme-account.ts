import * as acme from 'acme-client';
import { int8 } from '../../db/int8.js';
import type { acmeAccounts } from '../../db/schema/manager.js';
import type { TableRow } from '../../db/table-row.js';
import type { Queryable } from './certificate-store.js';
import type { Sealer } from './sealer.js';

export interface AcmeAccount {
  id: number;
  key: Buffer;
  accountUrl: string | null;
}

/**
 * The ACME account key for (directory, email), made and stored sealed on first use. Concurrent first uses
 * race on the unique index: the loser's key is discarded and both use the winner's.
 */
export async function acmeAccount(
  db: Queryable,
  sealer: Sealer,
  directoryUrl: string,
  email: string,
): Promise<AcmeAccount> {
  const read = () =>
    db.query<Pick<TableRow<typeof acmeAccounts>, 'id' | 'key_sealed' | 'account_url'>>(
      'select id, key_sealed, account_url from manager.acme_accounts where directory_url = $1 and email = $2',
      [directoryUrl, email],
    );
  let { rows } = await read();
  if (!rows[0]) {
    const key = await acme.crypto.createPrivateEcdsaKey('P-256');
    await db.query(
      `insert into manager.acme_accounts (directory_url, email, key_sealed) values ($1, $2, $3)
       on conflict (directory_url, email) do nothing`,
      [directoryUrl, email, sealer.seal(key)],
    );
    ({ rows } = await read());
  }
  const row = rows[0]!;
  return { id: int8(row.id), key: sealer.open(row.key_sealed), accountUrl: row.account_url };
}

export async function saveAcmeAccountUrl(db: Queryable, id: number, accountUrl: string): Promise<void> {
  await db.query(
    'update manager.acme_accounts set account_url = $2 where id = $1 and account_url is distinct from $2',
    [id, accountUrl],
  );
}
