import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { Browser, codeFor, logIn } from '../manager/manager-browser.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { until } from '../support/until.js';
import {
  cycle,
  newTally,
  startBalanced,
  withRetries,
  type BalancedService,
  type ServiceInstance,
} from './balance-lab.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'nginx');

const PAUSE_MS = 20;

describe('nginx in front of two managers: one killed while a signed-in operator works', { skip }, () => {
  const serverKey = randomBytes(32);
  let db: TestDatabase;
  let svc: BalancedService;
  let pool: Pool;

  before(async () => {
    db = await createTestDatabase('balance_manager');
    pool = createPool(db.url, quietLog, { max: 2 });
    svc = await startBalanced('manager', {
      env: { DATABASE_URL: db.url, SERVER_KEY: serverKey.toString('base64'), HOPMAP_TLS: 'off' },
      // One operator's page loads make many more /api requests than the default per-address limit allows.
      args: ['--api-rate-limit', '1000000'],
    });
  });

  after(async () => {
    await svc?.stop();
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  it('keeps the session through kill -9 of one instance and SIGTERM of the other, and each serves it again after its restart', async (t) => {
    const alice = await addUser(pool, serverKey, 'alice');
    const br = new Browser('198.51.100.9');
    const login = await logIn(br, svc.url, svc.url, 'alice', await codeFor(alice.secret));
    assert.equal(login.status, 303, login.text);
    const cookie = br.cookie;
    assert.ok(cookie, 'signed in');

    const tally = newTally();
    let running = true;
    let failure: Error | undefined;
    // Two tabs: the dashboard's API, and the page itself, both with the one session cookie.
    const tab = async (path: string, check: (status: number, text: string) => void) => {
      try {
        while (running) {
          await withRetries(tally, `GET ${path}`, async () => {
            const res = await br.get(`${svc.url}${path}`);
            check(res.status, res.text);
          });
          await sleep(PAUSE_MS);
        }
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err));
        running = false;
      }
    };
    const tabs = [
      tab('/api/me', (status, text) => {
        assert.equal(status, 200, text);
        assert.equal(JSON.parse(text).user, 'alice');
      }),
      tab('/', (status, text) => {
        assert.equal(status, 200, text);
        assert.match(text, /Signed in as <strong>alice<\/strong>/);
      }),
    ];
    const progress = () => {
      if (failure) throw failure;
      return tally.ok;
    };
    try {
      await until('pages to load through nginx', () => (progress() >= 20 ? true : undefined), { timeoutMs: 60_000 });
      const [one, two] = svc.instances as [ServiceInstance, ServiceInstance];
      for (const [victim, signal] of [
        [one, 'SIGKILL'],
        [two, 'SIGTERM'],
      ] as const) {
        const step = await cycle(svc, victim, signal, '/api/me', progress);
        t.diagnostic(
          `${signal} ${victim.name}: it had answered ${step.servedBefore} GET /api/me; after its restart ${step.servedAfterRestart} when we looked`,
        );
      }
    } finally {
      running = false;
      await Promise.all(tabs);
    }
    if (failure) throw failure;
    assert.equal(br.cookie, cookie, 'the same session all along');

    // A form post through nginx after all that: logout, with the CSRF token of the last page.
    const out = await br.submit(`${svc.url}/logout`);
    assert.equal(out.status, 303, out.text);
    assert.equal((await br.get(`${svc.url}/api/me`)).status, 401, 'signed out on every instance');

    t.diagnostic(
      `${tally.ok} page loads; failed tries the browser retried: ${tally.failedTries} (most tries for one: ${tally.maxTries})`,
    );
    if (tally.failures.length) t.diagnostic(`failures seen: ${[...new Set(tally.failures)].slice(0, 5).join(' | ')}`);
  });
});
