import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ScureBase32Plugin } from 'otplib';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { managerService } from '../../src/manager/manager-service.js';
import { openUserSecret } from '../../src/manager/users/user-secret.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { BIN_PATH } from '../../src/version.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode } from '../support/spawn-process.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { Browser, codeFor, logIn } from './manager-browser.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

describe('hopmap user', { skip }, () => {
  const serverKey = randomBytes(32);
  let db: TestDatabase;
  let pool: Pool;
  let manager: RunningService;

  before(async () => {
    db = await createTestDatabase('manager_users');
    pool = createPool(db.url, quietLog, { max: 2 });
    manager = await startService(managerService({ serverKey }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
  });

  after(async () => {
    await manager?.stop();
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  async function hopmap(
    args: string[],
    env: Record<string, string | undefined> = { SERVER_KEY: serverKey.toString('base64') },
  ) {
    const child = spawnNode([BIN_PATH, ...args], {
      DATABASE_URL: db.url,
      HOPMAP_SERVER_KEY: undefined,
      SERVER_KEY: undefined,
      ...env,
    });
    const { code } = await child.exited;
    return { code, output: child.output() };
  }

  let secret = '';

  it('adds a user and prints the otpauth URI and a QR code drawn in the terminal', async () => {
    const { code, output } = await hopmap(['user', 'add', 'alice']);
    assert.equal(code, 0, output);
    const uri = /^otpauth:\/\/totp\/hopmap:alice\?secret=([A-Z2-7]+)&issuer=hopmap$/m.exec(output);
    assert.ok(uri, output);
    secret = uri[1]!;
    assert.match(output, new RegExp(`^secret \\(to type in instead\\): ${secret}$`, 'm'));
    const qrLines = output.split('\n').filter((l) => /[█▀▄]/.test(l));
    assert.ok(qrLines.length >= 10, `a QR code of block characters:\n${output}`);
    // The test's stdout is a pipe: no colour codes in it (src/cli/terminal-colour.ts).
    assert.ok(!output.includes('\x1b'), `no ANSI escape written into a pipe:\n${JSON.stringify(output)}`);
    // The code from the printed secret logs in.
    const br = new Browser('203.0.113.1');
    assert.equal((await logIn(br, manager.url, manager.url, 'alice', await codeFor(secret))).status, 303);
  });

  it('stores no TOTP secret in the clear, and the sealed values open only with the server key', async () => {
    const bytes = Buffer.from(new ScureBase32Plugin().decode(secret));
    assert.equal(bytes.length, 20);
    const { rows } = await pool.query('select * from manager.users');
    const forms = [
      secret,
      secret.toLowerCase(),
      bytes.toString('hex'),
      bytes.toString('base64'),
      bytes.toString('base64url'),
      bytes.toString('latin1'),
    ];
    for (const row of rows) {
      for (const [column, value] of Object.entries(row)) {
        const text = String(value);
        for (const form of forms) assert.ok(!text.includes(form), `users.${column} holds the secret in the clear`);
        // A column that is base64 must not decode to something holding the secret's bytes either.
        if (/^[A-Za-z0-9+/]+=*$/.test(text))
          assert.ok(!Buffer.from(text, 'base64').includes(bytes), `users.${column} decodes to the secret`);
      }
    }
    const alice = rows.find((r) => r.name === 'alice');
    const sealed = { userKeySealed: alice.user_key_sealed, totpSecretSealed: alice.totp_secret_sealed };
    assert.deepEqual(openUserSecret(serverKey, 'alice', sealed), bytes);
    assert.throws(() => openUserSecret(randomBytes(32), 'alice', sealed), /does not open: wrong key/);
  });

  it('refuses a duplicate user, a bad name and an unknown user with a clear message', async () => {
    const dup = await hopmap(['user', 'add', 'alice']);
    assert.equal(dup.code, 1);
    assert.match(dup.output, /^hopmap: user 'alice' already exists/m);
    const bad = await hopmap(['user', 'add', 'Bad Name']);
    assert.equal(bad.code, 1);
    assert.match(bad.output, /^hopmap: invalid user name 'Bad Name': use 1-64 characters: lower-case letters/m);
    const unknown = await hopmap(['user', 'remove', 'nobody']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.output, /^hopmap: no user 'nobody'/m);
  });

  it('refuses to add a user without SERVER_KEY, naming it, with exit status 2', async () => {
    const { code, output } = await hopmap(['user', 'add', 'bob'], {});
    assert.equal(code, 2, output);
    assert.match(
      output,
      /^hopmap: invalid configuration server_key \(default\): missing: set SERVER_KEY to 32 random bytes in base64/m,
    );
  });

  it('lists users, and removes one, ending their sessions on the spot', async () => {
    assert.equal((await hopmap(['user', 'add', 'bob'])).code, 0);
    const list = await hopmap(['user', 'list'], {});
    assert.equal(list.code, 0, list.output);
    assert.match(list.output, /^name +created +last login$/m);
    assert.match(list.output, /^alice +\d{4}-\d\d-\d\dT\S+ +\d{4}-\d\d-\d\dT\S+$/m);
    assert.match(list.output, /^bob +\d{4}-\d\d-\d\dT\S+ +never$/m);

    const br = new Browser('203.0.113.2');
    const bob = (await pool.query(`select 1 from manager.users where name = 'bob'`)).rowCount;
    assert.equal(bob, 1);
    const bobSecret = await pool.query(
      `select user_key_sealed, totp_secret_sealed from manager.users where name = 'bob'`,
    );
    const bytes = openUserSecret(serverKey, 'bob', {
      userKeySealed: bobSecret.rows[0].user_key_sealed,
      totpSecretSealed: bobSecret.rows[0].totp_secret_sealed,
    });
    assert.equal(
      (await logIn(br, manager.url, manager.url, 'bob', await codeFor(new ScureBase32Plugin().encode(bytes)))).status,
      303,
    );
    assert.equal((await br.get(`${manager.url}/api/me`)).status, 200);

    const removed = await hopmap(['user', 'remove', 'bob'], {});
    assert.equal(removed.code, 0, removed.output);
    assert.match(removed.output, /^user bob removed; 1 session\(s\) ended$/m);
    assert.equal((await br.get(`${manager.url}/api/me`)).status, 401);
    const after = await hopmap(['user', 'list'], {});
    assert.doesNotMatch(after.output, /^bob /m);
  });
});
