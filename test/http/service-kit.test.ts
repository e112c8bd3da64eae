import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { demoService } from '../fixtures/demo-service.js';
import { postJson, request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

describe('service kit', { skip }, () => {
  let db: TestDatabase;
  let svc: RunningService;

  before(async () => {
    db = await createTestDatabase('service_kit');
    svc = await startService(demoService, {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
      bodyLimit: '1kb',
    });
  });

  after(async () => {
    await svc?.stop();
    await db?.drop();
    await assertNoLeaks();
  });

  it('answers /service-info with exactly the original shape', async () => {
    const res = await request(`${svc.url}/service-info`);
    assert.equal(res.status, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['capabilities', 'instance_id', 'name', 'service_type', 'version']);
    assert.equal(body.service_type, 'input');
    assert.deepEqual(body.capabilities, ['demo']);
    assert.equal(body.instance_id, svc.identity.instanceId);
    assert.match(body.version, /^\d+\.\d+\.\d+/);
  });

  it('rejects a body over the limit with 413 in the error shape', async () => {
    const res = await postJson(`${svc.url}/echo`, { name: 'x'.repeat(2000), count: 1 });
    assert.equal(res.status, 413);
    assert.equal(res.json().error.code, 'payload_too_large');
    assert.match(res.json().error.message, /exceeds the limit of 1024 bytes/);
  });

  it('rejects malformed JSON with 400 saying so', async () => {
    const res = await postJson(`${svc.url}/echo`, '{"name": "a", count: }');
    assert.equal(res.status, 400);
    assert.equal(res.json().error.code, 'invalid_json');
    assert.match(res.json().error.message, /not valid JSON/);
  });

  it('names each invalid field and the reason with 400', async () => {
    const res = await postJson(`${svc.url}/echo`, { name: '', count: 'three', tags: ['ok', 7] });
    assert.equal(res.status, 400);
    const { error } = res.json();
    assert.equal(error.code, 'validation_failed');
    assert.deepEqual(error.details.map((d: { path: string }) => d.path).sort(), [
      'body.count',
      'body.name',
      'body.tags[1]',
    ]);
    assert.match(error.message, /body\.count: .*number/i);
  });

  it('names an unknown field', async () => {
    const res = await postJson(`${svc.url}/echo`, { name: 'a', count: 1, colour: 'red' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.json().error.details, [{ path: 'body.colour', message: 'Unrecognized key: "colour"' }]);
  });

  it('answers an unknown route with 404 in the error shape', async () => {
    const res = await request(`${svc.url}/nope`);
    assert.equal(res.status, 404);
    assert.deepEqual(res.json(), { error: { code: 'not_found', message: 'no route for GET /nope' } });
  });

  it('serves a valid request and counts it on /health and /metrics', async () => {
    const res = await postJson(`${svc.url}/echo`, { name: 'a', count: 2 });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { echoed: { name: 'a', count: 2 } });

    const health = (await request(`${svc.url}/health`)).json();
    assert.equal(health.status, 'ok');
    assert.equal(health.service_type, 'input');
    assert.equal(health.checks.database, 'ok');
    assert.ok(health.counters.demo_echoes_total >= 1);
    assert.equal(typeof health.uptime_seconds, 'number');

    const metrics = await request(`${svc.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers['content-type'] ?? '', /text\/plain/);
    assert.match(metrics.text, /^hopmap_demo_echoes_total\{service="input"\} [1-9]/m);
    assert.match(metrics.text, /^hopmap_process_cpu_user_seconds_total/m);
    assert.match(
      metrics.text,
      /hopmap_http_request_duration_seconds_count\{service="input",method="POST",route="\/echo",status="200"\}/,
    );
  });

  it('is ready while its database answers', async () => {
    const res = await request(`${svc.url}/ready`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { status: 'ready', checks: { database: 'ok' } });
  });

  it('registers itself in service_instances', async () => {
    const client = new pg.Client(db.url);
    await client.connect();
    try {
      const { rows } = await client.query(
        'select service_type, url, capabilities from service_instances where instance_id = $1',
        [svc.identity.instanceId],
      );
      assert.deepEqual(rows, [{ service_type: 'input', url: svc.url, capabilities: ['demo'] }]);
    } finally {
      await client.end();
    }
  });
});
