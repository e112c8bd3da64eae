import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { apiKeysPlugin } from '../../src/manager/api-keys/index.js';
import { gatewayPlugin } from '../../src/manager/gateway/index.js';
import { managerService } from '../../src/manager/manager-service.js';
import { registryPlugin } from '../../src/manager/registry/index.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { createResultSink } from '../../src/worker/result-sinks.js';
import { targetSource } from '../../src/worker/target-source.js';
import { request } from '../support/http-client.js';
import { startInput, writeTargetDir } from '../support/input-fixture.js';
import { assertNoLeaks } from '../support/leaks.js';
import { pingResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { Browser, codeFor, logIn } from './manager-browser.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

/** The registry, API keys and the gateway as `hopmap manager` mounts them: behind login, CSRF and sessions. */
describe('gateway, registry and API keys in the manager service', { skip }, () => {
  const serverKey = randomBytes(32);
  let db: TestDatabase;
  let pool: Pool;
  let dir: string;
  let input: RunningService;
  let output: RunningService;
  let manager: RunningService;

  before(async () => {
    db = await createTestDatabase('gateway_in_manager');
    pool = createPool(db.url, quietLog, { max: 2 });
    dir = writeTargetDir({ 'targets.txt': '20.9.0.0/29\n' });
    input = await startInput(db.url, { targets: dir });
    output = await startService(outputService(outputWiring), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    manager = await startService(
      managerService({ serverKey, plugins: [registryPlugin, apiKeysPlugin, gatewayPlugin] }),
      { databaseUrl: db.url, host: '127.0.0.1', port: 0, log: quietLog },
    );
  });

  after(async () => {
    await Promise.all([manager?.stop(), input?.stop(), output?.stop()]);
    await pool?.end();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('keeps the pages and JSON APIs for signed-in operators, and the gateway for keys only', async () => {
    const anonymous = new Browser('192.0.2.30');
    for (const page of ['/workers', '/api-keys']) {
      const res = await anonymous.get(`${manager.url}${page}`);
      assert.equal(res.status, 303, page);
      assert.equal(res.headers.location, '/login');
    }
    for (const api of ['/api/services', '/api/keys'])
      assert.equal((await anonymous.get(`${manager.url}${api}`)).status, 401, api);
    const gw = await anonymous.get(`${manager.url}/gateway/targets?n=1`);
    assert.equal(gw.status, 401);
    assert.equal(gw.json().error.code, 'api_key_required');
  });

  it('lets an operator register an input, create a key, and a worker use it through the gateway', async () => {
    const user = await addUser(pool, serverKey, 'operator');
    const br = new Browser('192.0.2.31');
    assert.equal((await logIn(br, manager.url, manager.url, 'operator', await codeFor(user.secret))).status, 303);

    await br.get(`${manager.url}/workers`);
    const noToken = await br.post(`${manager.url}/workers`, { url: input.url });
    assert.equal(noToken.status, 403, 'forms need the CSRF token');
    const added = await br.submit(`${manager.url}/workers`, { url: input.url, name: 'feeder-1' });
    assert.equal(added.status, 303, added.text);
    const list = await br.get(`${manager.url}${added.headers.location}`);
    assert.match(list.text, /Registered feeder-1 \(input\), status ok\./);

    await br.get(`${manager.url}/api-keys`);
    const created = await br.submit(`${manager.url}/api-keys`, { name: 'pi-nat' });
    assert.equal(created.status, 201, created.text);
    const key = /<pre><code>(hm_[A-Za-z0-9_-]{43})<\/code><\/pre>/.exec(created.text)?.[1];
    assert.ok(key);
    assert.match((await br.get(`${manager.url}/`)).text, /Workers and services[\s\S]*1 ok<\/span> of 1 registered/);

    // The worker: no session, no CSRF token, only its key.
    const batch = await targetSource(`${manager.url}/gateway`, { workerId: 'pi-nat', apiKey: key }).next(3);
    assert.equal(batch.targets.length, 3);
    const sink = createResultSink(`${manager.url}/gateway`, { workerId: 'pi-nat', apiKey: key, log: quietLog });
    try {
      assert.equal(
        (await sink.send(batch.targets.map((t) => pingResult(t, { lease: batch.lease, worker: 'pi-nat' })))).ok,
        true,
      );
    } finally {
      await sink.close();
    }
    const health = await request(`${manager.url}/health`);
    assert.equal(health.json().counters.gateway_requests_total, 2);
    const sessions = await pool.query(`select count(*)::int as n from manager.manager_sessions`);
    assert.equal(sessions.rows[0].n, 1, 'gateway requests make no sessions');
  });
});
