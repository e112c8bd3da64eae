import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { managerService } from '../../src/manager/manager-service.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { Browser, codeFor, logIn } from './manager-browser.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

describe('manager: session timeouts', { skip }, () => {
  const serverKey = randomBytes(32);
  let db: TestDatabase;
  let pool: Pool;
  let idle: RunningService;
  let absolute: RunningService;

  before(async () => {
    db = await createTestDatabase('manager_timeouts');
    pool = createPool(db.url, quietLog, { max: 2 });
    const opts = { databaseUrl: db.url, host: '127.0.0.1', port: 0, log: quietLog };
    idle = await startService(managerService({ serverKey, idleTimeoutMs: 1_000 }), opts);
    absolute = await startService(managerService({ serverKey, idleTimeoutMs: 60_000, absoluteTimeoutMs: 1_000 }), opts);
  });

  after(async () => {
    await idle?.stop();
    await absolute?.stop();
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  const signedIn = async (br: Browser, url: string) => (await br.get(`${url}/api/me`)).status === 200;

  it('ends a session idle for longer than the idle timeout, and keeps one in use past it (rolling)', async () => {
    const user = await addUser(pool, serverKey, 'idler');
    const br = new Browser('192.0.2.1');
    assert.equal((await logIn(br, idle.url, idle.url, 'idler', await codeFor(user.secret))).status, 303);
    // Used every 0.4 s for 1.6 s: longer than the timeout in all, never idle for as long.
    for (let i = 0; i < 4; i++) {
      await sleep(400);
      assert.ok(await signedIn(br, idle.url), `still signed in after ${(i + 1) * 0.4} s of use`);
    }
    // The store keeps expiry to the second, so the session may outlive its 1 s by up to one more.
    await sleep(2_500);
    const page = await br.get(`${idle.url}/`);
    assert.equal(page.status, 303);
    assert.equal(page.headers.location, '/login');
  });

  it('ends a session at the absolute timeout even while it is in use', async () => {
    const user = await addUser(pool, serverKey, 'busy');
    const br = new Browser('192.0.2.2');
    assert.equal((await logIn(br, absolute.url, absolute.url, 'busy', await codeFor(user.secret))).status, 303);
    assert.ok(await signedIn(br, absolute.url));
    await sleep(600);
    assert.ok(await signedIn(br, absolute.url));
    await sleep(900);
    assert.ok(!(await signedIn(br, absolute.url)), 'signed out 1.5 s after login although used 0.6 s ago');
    const { rows } = await pool.query(
      `select count(*)::int as n from manager.manager_sessions where (sess -> 'user' ->> 'name') = 'busy'`,
    );
    assert.equal(rows[0].n, 0, 'the expired session row is gone');
  });
});
