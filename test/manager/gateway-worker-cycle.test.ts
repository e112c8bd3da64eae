import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { createServiceApp } from '../../src/http/create-service-app.js';
import { listen, type Listening } from '../../src/http/listen.js';
import { makeIdentity } from '../../src/http/service-identity.js';
import { ServiceMetrics } from '../../src/http/service-metrics.js';
import { createKey, revokeKey } from '../../src/keys/key-store.js';
import { createGateway, type Gateway } from '../../src/manager/gateway/index.js';
import { registerService } from '../../src/manager/registry/index.js';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { createResultSink } from '../../src/worker/result-sinks.js';
import { targetSource } from '../../src/worker/target-source.js';
import { request } from '../support/http-client.js';
import { startInput, writeTargetDir } from '../support/input-fixture.js';
import { assertNoLeaks } from '../support/leaks.js';
import { pingResult, traceResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

/**
 * An external worker behind NAT reaches only the manager: its stock target source and result sink, configured
 * with `input_file: <manager>/gateway`, `output_file: <manager>/gateway` and `api_key`, complete the cycle.
 */
describe('gateway: a worker behind NAT through the manager', { skip }, () => {
  let db: TestDatabase;
  let pool: Pool;
  let dir: string;
  let inputA: RunningService | undefined;
  let inputB: RunningService;
  let output: RunningService;
  let gateway: Gateway;
  let manager: Listening;
  let metrics: ServiceMetrics;
  let key: string;
  let feederKey: string;

  before(async () => {
    db = await createTestDatabase('gateway_cycle');
    pool = createPool(db.url, quietLog, { max: 6 });
    dir = writeTargetDir({ 'targets.txt': '20.7.0.0/28\n' });
    inputA = await startInput(db.url, { targets: dir });
    inputB = await startInput(db.url);
    output = await startService(outputService(outputWiring), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    metrics = new ServiceMetrics('manager');
    gateway = createGateway({ pool, log: quietLog, metrics });
    // The manager as the app builds it: the service kit (its JSON parser runs first), the gateway among the routes.
    const { app } = createServiceApp({
      identity: makeIdentity('manager', [], 'manager-test'),
      log: quietLog,
      metrics,
      routes: (a) => void a.use(gateway.router),
    });
    manager = await listen(app, { port: 0, host: '127.0.0.1' });
    key = (await createKey(pool, { name: 'pi-behind-nat', role: 'worker', createdBy: 'alice' })).key;
    feederKey = (await createKey(pool, { name: 'hop-feeder', role: 'feeder' })).key;
  });

  after(async () => {
    await manager?.close(1_000);
    await gateway?.close();
    await Promise.all([inputA?.stop(), inputB?.stop(), output?.stop()]);
    await pool?.end();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  const workerSource = (apiKey = key) => targetSource(`${manager.url}/gateway`, { workerId: 'nat-worker-1', apiKey });
  const workerSink = (apiKey = key) =>
    createResultSink(`${manager.url}/gateway`, { workerId: 'nat-worker-1', apiKey, log: quietLog });

  it("completes target → result with the worker's own client code: lease served, results stored, lease acknowledged", async () => {
    const batch = await workerSource().next(5);
    assert.equal(batch.targets.length, 5);
    assert.ok(batch.lease);
    const lease = await pool.query('select consumer_id, state from leases where id = $1', [batch.lease]);
    assert.deepEqual(
      lease.rows[0],
      { consumer_id: 'pi-behind-nat/nat-worker-1', state: 'open' },
      "the input saw the worker's key and consumer id: its own namespace, as if it came directly",
    );

    const results = batch.targets.map((t) => pingResult(t, { lease: batch.lease, worker: 'nat-worker-1' }));
    const sink = workerSink();
    try {
      const outcome = await sink.send(results);
      assert.deepEqual(outcome, { ok: true, rejected: undefined });
    } finally {
      await sink.close();
    }
    const stored = await pool.query('select count(*)::int as n from result_ids where id = any($1::uuid[])', [
      results.map((r) => r.id),
    ]);
    assert.equal(stored.rows[0].n, 5);
    const done = await pool.query('select state from leases where id = $1', [batch.lease]);
    assert.equal(done.rows[0].state, 'done', 'the output acknowledged the lease');
  });

  it('keeps serving while one of two input instances is down: the gateway retries on the other', async () => {
    // Both inputs registered and seen ok; then one stops. Until the next poll the registry still lists it.
    await registerService(pool, { url: inputA!.url });
    await registerService(pool, { url: inputB.url });
    await inputA!.stop();
    inputA = undefined;
    const retriesBefore = (await metrics.totals()).gateway_retries_total ?? 0;

    const source = workerSource();
    const leases: string[] = [];
    for (let i = 0; i < 4; i++) {
      const batch = await source.next(2);
      assert.equal(batch.targets.length, 2, `request ${i} got targets`);
      leases.push(batch.lease!);
    }
    const retries = ((await metrics.totals()).gateway_retries_total ?? 0) - retriesBefore;
    assert.equal(retries, 1, 'one failed attempt on the stopped instance, then it is tried last');

    // Results for the last batch go through as well.
    const sink = workerSink();
    try {
      const last = leases.at(-1)!;
      const targets = (
        await pool.query('select host(unnest(targets)) as t from leases where id = $1', [last])
      ).rows.map((r) => r.t as string);
      assert.equal(
        (await sink.send(targets.map((t) => pingResult(t, { lease: last, worker: 'nat-worker-1' })))).ok,
        true,
      );
    } finally {
      await sink.close();
    }
  });

  it('forwards hops (with a feeder key) to an input and gzip NDJSON results to an output, answers passed through', async () => {
    const refused = await request(`${manager.url}/gateway/hops`, {
      method: 'POST',
      body: '["31.7.0.3"]',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    assert.equal(refused.status, 403, 'a worker key posts no hops');
    const hops = await request(`${manager.url}/gateway/hops`, {
      method: 'POST',
      body: JSON.stringify(['31.7.0.1', '31.7.0.2', 'nope']),
      headers: { authorization: `Bearer ${feederKey}`, 'content-type': 'application/json' },
    });
    assert.equal(hops.status, 400, "the input's answer is passed through");
    assert.equal(hops.json().added, 2);
    assert.match(hops.json().error.message, /1 of 3 hops rejected/);

    const results = [traceResult('20.7.0.9', ['31.7.1.1', null, '20.7.0.9']), pingResult('20.7.0.10')];
    const body = gzipSync(results.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const res = await request(`${manager.url}/gateway/results`, {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().accepted, 2);
    assert.equal(res.json().new_hops, 1);
  });

  it('refuses a revoked key at once, a missing key, and a key of another role', async () => {
    const { key: doomed, record } = await createKey(pool, { name: 'lost-pi', role: 'worker' });
    assert.equal((await workerSource(doomed).next(1)).targets.length, 1);
    await revokeKey(pool, record.id);
    await assert.rejects(workerSource(doomed).next(1), /GET targets answered 401: .*api_key_revoked/);
    const sink = workerSink(doomed);
    try {
      const outcome = await sink.send([pingResult('20.7.0.11')]);
      assert.equal(outcome.ok, false);
      assert.equal(!outcome.ok && outcome.permanent, 'receiver', 'the worker keeps its results until an operator acts');
    } finally {
      await sink.close();
    }

    const missing = await request(`${manager.url}/gateway/targets?n=1`);
    assert.equal(missing.status, 401);
    assert.equal(missing.json().error.code, 'api_key_required');
    const scoped = await request(`${manager.url}/gateway/targets?n=1`, {
      headers: { authorization: `Bearer ${feederKey}` },
    });
    assert.equal(scoped.status, 403);
    assert.equal(scoped.json().error.code, 'forbidden_role');
  });
});
