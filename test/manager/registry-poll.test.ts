import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TaskList } from 'graphile-worker';
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
import { until } from '../support/until.js';

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

  /** poll_services jobs not yet done; a failed one fails the test with its error. */
  const pendingPolls = async () => {
    const { rows } = await pool.query<{ last_error: string | null }>(
      `select last_error from graphile_worker.jobs where task_identifier = 'poll_services'`,
    );
    const failed = rows.find((r) => r.last_error);
    if (failed) assert.fail(`a poll_services job failed: ${failed.last_error}`);
    return rows.length;
  };

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

  it('runs as a graphile-worker cron job, each minute once across two manager instances', async () => {
    // As if the managers had run this crontab before and been down for the last minutes: with `fill`, each
    // runner backfills those minutes at start through the same once-per-tick scheduling as live ticks, so
    // the test sees several ticks without waiting for the clock's next minute.
    await pool.query(
      `insert into graphile_worker._private_known_crontabs (identifier, known_since) values ('poll_services', now() - interval '10 minutes')`,
    );
    spare.health = { ...spare.health, status: 'degraded', checks: { database: 'down: connection refused' } };
    const hitsBefore = spare.healthRequests;
    const ticks: string[] = [];
    const counted: TaskList = {
      poll_services: async (payload, helpers) => {
        await tasks.poll_services!(payload, helpers);
        ticks.push((payload as { _cron: { ts: string } })._cron.ts);
      },
    };
    // Two manager instances, each with its own pool and job runner, as two processes would have.
    const pools = [createPool(db.url, quietLog, { max: 4 }), createPool(db.url, quietLog, { max: 4 })];
    const runners = await Promise.all(
      pools.map((p) =>
        startJobRunner({ pool: p, log: quietLog, tasks: counted, crontab: crontab.map((c) => `${c}&fill=3m`) }),
      ),
    );
    try {
      await until(
        'the backfilled minutes to be polled',
        async () => (ticks.length >= 2 && (await pendingPolls()) === 0 ? true : undefined),
        { timeoutMs: 30_000, everyMs: 100 },
      );
      await sleep(1_000); // had the other instance run the same ticks, its polls would be in by now
      assert.equal(new Set(ticks).size, ticks.length, `each minute polled once: ${JSON.stringify(ticks)}`);
      assert.equal(spare.healthRequests - hitsBefore, ticks.length, 'one poll per tick, not one per instance');
      const s = (await statusOf(pool))['pi-spare']!;
      assert.equal(s.status, 'degraded');
      assert.equal(s.lastError, 'degraded: database down: connection refused');
    } finally {
      await Promise.all(runners.map((r) => r.stop()));
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});
