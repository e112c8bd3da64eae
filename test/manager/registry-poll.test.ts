import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { startJobRunner } from '../../src/jobs/start-job-runner.js';
import {
  crontab,
  pollServices,
  registerService,
  servicesDashboardSection,
  tasks,
} from '../../src/manager/registry/index.js';
import { listServices } from '../../src/manager/registry/registered-services.js';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { startInput } from '../support/input-fixture.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

/** A stand-in worker whose identity and health the test changes, counting /health requests. */
class FakeWorker {
  info = {
    service_type: 'ping',
    version: '0.1.0',
    name: 'pi-attic',
    instance_id: 'ping-attic-1',
    capabilities: ['icmp'],
  };
  health: Record<string, unknown> = {
    status: 'ok',
    instance_id: 'ping-attic-1',
    uptime_seconds: 60,
    counters: { results_total: 5 },
    pps_cap: 50,
    spool: { depth: 0 },
    input: { source: 'http://input', last_fetch_ok: true },
  };
  healthRequests = 0;
  private server = http.createServer((req, res) => {
    if (req.url === '/health') this.healthRequests++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url === '/health' ? this.health : this.info));
  });
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

const statusOf = async (pool: Pool) => Object.fromEntries((await listServices(pool)).map((s) => [s.name, s]));

describe('registry: health polling', { skip }, () => {
  let db: TestDatabase;
  let pool: Pool;
  let input: RunningService;
  let output: RunningService | undefined;
  let worker: FakeWorker;
  let spare: FakeWorker;

  before(async () => {
    db = await createTestDatabase('registry_poll');
    pool = createPool(db.url, quietLog, { max: 6 });
    input = await startInput(db.url, { auth: 'off' });
    output = await startService(outputService({ ...outputWiring, auth: 'off' }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
      name: 'output-1',
    });
    worker = await new FakeWorker().start();
    spare = await new FakeWorker().start();
    spare.info = { ...spare.info, name: 'pi-spare', instance_id: 'ping-spare-1' };
    spare.health = { ...spare.health, instance_id: 'ping-spare-1' };
    for (const url of [input.url, output.url, worker.url, spare.url])
      await registerService(pool, { url }, { timeoutMs: 2_000 });
  });

  after(async () => {
    await Promise.all([input?.stop(), output?.stop(), worker?.close(), spare?.close()]);
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  it('marks a stopped service down, a running one ok, a struggling worker degraded, and sorts problems first', async () => {
    const before = await statusOf(pool);
    assert.deepEqual(
      Object.values(before).map((s) => s.status),
      ['ok', 'ok', 'ok', 'ok'],
    );
    const outputUrl = output!.url;
    await output!.stop();
    output = undefined;
    worker.health = { ...worker.health, input: { source: 'http://input', last_fetch_ok: false } };

    const summary = await pollServices(pool, { timeoutMs: 2_000 });
    assert.deepEqual(summary, { checked: 4, ok: 2, degraded: 1, down: 1 });

    const after = await statusOf(pool);
    assert.equal(after['output-1']!.status, 'down');
    assert.match(after['output-1']!.lastError!, new RegExp(`^${outputUrl}/health is unreachable: ECONNREFUSED`));
    assert.equal(
      after['output-1']!.lastSeenAt!.getTime(),
      before['output-1']!.lastSeenAt!.getTime(),
      'last seen stays when it did not answer',
    );
    assert.ok((after['output-1']!.details as { counters?: unknown }).counters, 'the last known figures stay');
    assert.equal(after['pi-attic']!.status, 'degraded');
    assert.equal(after['pi-attic']!.lastError, 'cannot fetch targets from http://input');
    assert.equal(after[input.identity.name]!.status, 'ok');
    assert.ok(after[input.identity.name]!.lastSeenAt! > before[input.identity.name]!.lastSeenAt!);

    assert.deepEqual(
      (await listServices(pool)).map((s) => s.status),
      ['down', 'degraded', 'ok', 'ok'],
    );
    const section = (await servicesDashboardSection(pool)).value;
    assert.match(section, /1 down<\/span>.*1 degraded<\/span>.*0 unknown<\/span>.*2 ok<\/span> of 4 registered/s);
    assert.match(
      section,
      /<li><span class="status-down">down<\/span> <a href="\/workers#service-\d+">output-1<\/a> \(output\)/,
    );
    assert.doesNotMatch(section, /pi-spare/, 'healthy services are not listed as problems');
  });

  it('reads /service-info again when the instance behind a URL changed', async () => {
    worker.info = {
      ...worker.info,
      instance_id: 'ping-attic-2',
      version: '0.2.0',
      capabilities: ['icmp', 'tcp', 'traceroute'],
    };
    worker.health = {
      ...worker.health,
      instance_id: 'ping-attic-2',
      input: { source: 'http://input', last_fetch_ok: true },
    };
    await pollServices(pool, { timeoutMs: 2_000 });
    const s = (await statusOf(pool))['pi-attic']!;
    assert.equal(s.status, 'ok');
    assert.equal(s.instanceId, 'ping-attic-2');
    assert.equal(s.version, '0.2.0');
    assert.deepEqual(s.capabilities, ['icmp', 'tcp', 'traceroute']);
    assert.equal(s.name, 'pi-attic', 'the name an operator sees is kept');
  });

  it(
    'runs as a graphile-worker cron job once per minute across two manager instances',
    { timeout: 150_000 },
    async () => {
      // Two manager instances, each with its own pool and job runner, as two processes would have.
      spare.health = { ...spare.health, status: 'degraded', checks: { database: 'down: connection refused' } };
      const hitsBefore = spare.healthRequests;
      const started = new Date();
      const pools = [createPool(db.url, quietLog, { max: 4 }), createPool(db.url, quietLog, { max: 4 })];
      const runners = await Promise.all(pools.map((p) => startJobRunner({ pool: p, log: quietLog, tasks, crontab })));
      try {
        const deadline = Date.now() + 130_000;
        let s = (await statusOf(pool))['pi-spare']!;
        while (!(s.lastCheckedAt && s.lastCheckedAt > started) && Date.now() < deadline) {
          await sleep(500);
          s = (await statusOf(pool))['pi-spare']!;
        }
        assert.ok(s.lastCheckedAt && s.lastCheckedAt > started, 'the cron tick polled');
        assert.equal(s.status, 'degraded');
        assert.equal(s.lastError, 'degraded: database down: connection refused');
        await sleep(3_000); // had the other instance run the same tick, its poll would be in by now
        assert.equal(spare.healthRequests - hitsBefore, 1, 'one poll per tick, not one per instance');
      } finally {
        await Promise.all(runners.map((r) => r.stop()));
        await Promise.all(pools.map((p) => p.end()));
      }
    },
  );
});
