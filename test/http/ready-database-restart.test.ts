import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { migrateDatabase } from '../../src/db/migrate.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { demoService } from '../fixtures/demo-service.js';
import { pollUntil, request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { quietLog } from '../support/test-databases.js';
import { startThrowawayPostgres } from '../support/throwaway-postgres.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

describe('readiness across a database restart (a throwaway PostgreSQL of this test)', { skip }, () => {
  let pgServer: Awaited<ReturnType<typeof startThrowawayPostgres>>;
  let svc: RunningService;

  before(async () => {
    pgServer = await startThrowawayPostgres();
    await migrateDatabase(pgServer.url, quietLog);
    svc = await startService(demoService, { databaseUrl: pgServer.url, host: '127.0.0.1', port: 0, log: quietLog });
  });

  after(async () => {
    await svc?.stop();
    await pgServer?.destroy();
    await assertNoLeaks();
  });

  it('is ready, turns 503 while the database is stopped, and recovers by itself when it is back', async () => {
    assert.equal((await request(`${svc.url}/ready`)).status, 200);
    assert.equal((await request(`${svc.url}/now`)).status, 200);

    await pgServer.cluster.stop('fast');
    const down = await pollUntil(`${svc.url}/ready`, (r) => r.status === 503);
    assert.equal(down.status, 503);
    assert.equal(down.json().status, 'not_ready');
    assert.match(down.json().checks.database, /^down: /);

    // Still alive and saying why, while the database is away.
    const health = await request(`${svc.url}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.json().status, 'degraded');
    // A request that needs the database says it is unavailable (retryable), not a 500.
    const now = await request(`${svc.url}/now`);
    assert.equal(now.status, 503);
    assert.equal(now.json().error.code, 'database_unavailable');
    assert.equal(now.headers['retry-after'], '5');

    await pgServer.cluster.start();
    const up = await pollUntil(`${svc.url}/ready`, (r) => r.status === 200);
    assert.equal(up.status, 200);
    assert.deepEqual(up.json(), { status: 'ready', checks: { database: 'ok' } });
    assert.equal((await request(`${svc.url}/now`)).status, 200);
  });
});
