/**
 * Three manager instances (each its own loopback address, health server, pool and graphile-worker runner)
 * keep one dy.fi name on a live instance, against a local stand-in of dy.fi's update API.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Runner, Task } from 'graphile-worker';
import pino from 'pino';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { startJobRunner } from '../../src/jobs/start-job-runner.js';
import { ddnsJobs, DDNS_CRONTAB, DDNS_TASK } from '../../src/manager/ddns/ddns-jobs.js';
import { keepDdnsName } from '../../src/manager/ddns/keep-ddns-name.js';
import { fetchFrom, startDyfiStandIn } from '../fixtures/dyfi-stand-in.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { until } from '../support/until.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const NAME = 'hopmap.dy.fi';
const SPARE = 'spare.dy.fi';
const ACCOUNT = { user: 'ops@hopmap.example', pass: 'right-password' };

interface Instance {
  id: string;
  address: string;
  url: string;
  server: http.Server;
  pool: Pool;
  runner?: Runner;
  stopped: boolean;
}

interface Run {
  instance: string;
  /** The cron tick the run was for. */
  ts: string;
  /** When it finished. */
  at: Date;
}

/** A manager instance's /health, as the service kit answers it, on its own loopback address. */
async function startInstance(id: string, address: string, databaseUrl: string): Promise<Instance> {
  const server = http.createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', instance_id: id })),
  );
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const url = `http://${address}:${(server.address() as AddressInfo).port}`;
  return { id, address, url, server, pool: createPool(databaseUrl, quietLog), stopped: false };
}

async function stopRunner(i: Instance): Promise<void> {
  const runner = i.runner;
  i.runner = undefined;
  await runner?.stop();
}

async function stopInstance(i: Instance): Promise<void> {
  if (i.stopped) return;
  i.stopped = true;
  await stopRunner(i);
  await new Promise<void>((resolve) => {
    i.server.close(() => resolve());
    i.server.closeAllConnections();
  });
  await i.pool.end();
}

describe('dy.fi name held by exactly one live instance', { skip }, () => {
  let db: TestDatabase;
  let dyfi: Awaited<ReturnType<typeof startDyfiStandIn>>;
  /** The test's own connection, for looking at the state whichever instance is stopped. */
  let observer: Pool;
  const instances: Instance[] = [];
  const runs: Run[] = [];
  const dyfiOf = (domain: string, pass = ACCOUNT.pass) => ({ url: dyfi.url, domain, user: ACCOUNT.user, pass });
  const check = (i: Instance, extra: { domain?: string; pass?: string; now?: () => Date; log?: pino.Logger } = {}) =>
    keepDdnsName({
      pool: i.pool,
      instanceId: i.id,
      selfUrl: i.url,
      dyfi: dyfiOf(extra.domain ?? NAME, extra.pass),
      fetch: fetchFrom(i.address),
      now: extra.now,
      log: extra.log,
    });
  const state = async (domain = NAME) =>
    (await observer.query('select * from manager.ddns_state where domain = $1', [domain])).rows[0];
  const pendingJobs = async (pool: Pool) => {
    const { rows } = await pool.query<{ last_error: string | null }>(
      'select last_error from graphile_worker.jobs where task_identifier = $1',
      [DDNS_TASK],
    );
    const failed = rows.find((r) => r.last_error);
    if (failed) assert.fail(`a ${DDNS_TASK} job failed: ${failed.last_error}`);
    return rows.length;
  };
  /**
   * Starts each instance's job runner with `fill`, so that minutes the cluster missed (as the tests set
   * them in `_private_known_crontabs`) run at once, through the same once-per-tick scheduling as live ticks,
   * rather than after a wait for the clock's next minute.
   */
  const startRunners = (list: Instance[]) =>
    Promise.all(
      list.map(async (i) => {
        const jobs = ddnsJobs({
          pool: i.pool,
          instanceId: i.id,
          selfUrl: i.url,
          dyfi: dyfiOf(NAME),
          fetch: fetchFrom(i.address),
          log: quietLog,
        });
        const task: Task = async (payload, helpers) => {
          await jobs.tasks[DDNS_TASK]!(payload, helpers);
          runs.push({ instance: i.id, ts: (payload as { _cron: { ts: string } })._cron.ts, at: new Date() });
        };
        const crontab = [`${DDNS_CRONTAB[0]}&fill=3m`];
        i.runner = await startJobRunner({ pool: i.pool, log: quietLog, tasks: { [DDNS_TASK]: task }, crontab });
      }),
    );

  before(async () => {
    db = await createTestDatabase('ddns_failover');
    observer = createPool(db.url, quietLog);
    dyfi = await startDyfiStandIn({ ...ACCOUNT, hostnames: [NAME, SPARE] });
    for (const [k, name] of ['a', 'b', 'c'].entries())
      instances.push(await startInstance(`manager-${name}`, `127.0.0.${k + 2}`, db.url));
  });

  after(async () => {
    for (const i of instances) await stopInstance(i);
    await dyfi?.stop();
    await observer?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  it('three runners run the check once per minute between them; the first run takes the name', async () => {
    // As if the cluster had run this crontab before and been down for the last minutes: with `fill`, each
    // runner backfills those minutes at start, through the same once-per-tick scheduling as live ticks.
    await observer.query(
      `insert into graphile_worker._private_known_crontabs (identifier, known_since) values ($1, now() - interval '10 minutes')`,
      [DDNS_TASK],
    );
    await startRunners(instances);
    await until(
      'the backfilled minutes to run',
      async () => (runs.length >= 2 && (await pendingJobs(observer)) === 0 ? true : undefined),
      { timeoutMs: 20_000, everyMs: 100 },
    );

    const ticks = runs.map((r) => r.ts);
    assert.equal(
      new Set(ticks).size,
      ticks.length,
      `each minute ran once across the three runners: ${JSON.stringify(runs)}`,
    );
    assert.equal(dyfi.calls.length, 1, `one dy.fi update: ${JSON.stringify(dyfi.calls)}`);
    const holder = instances.find((i) => i.address === dyfi.calls[0]!.from)!;
    assert.ok(holder, 'the name points at one of the instances');
    assert.equal(dyfi.names.get(NAME), holder.address);
    const row = await state();
    assert.equal(row.holder_instance, holder.id);
    assert.equal(row.holder_url, holder.url);
    assert.equal(row.address, holder.address);
    assert.equal(row.updates, 1);
    assert.equal(row.ok, true);
    assert.equal(row.last_result, `good ${holder.address}`);
  });

  it('when the holder stops answering, the next scheduled run on another instance takes over with one update', async () => {
    const holder = instances.find((i) => i.address === dyfi.names.get(NAME))!;
    await stopInstance(holder);
    const stoppedAt = new Date();
    // The survivors restart having missed the last minutes' ticks, which they then run at once (see startRunners).
    const survivors = instances.filter((i) => !i.stopped);
    for (const i of survivors) await stopRunner(i);
    await observer.query(
      `update graphile_worker._private_known_crontabs set last_execution = now() - interval '3 minutes' where identifier = $1`,
      [DDNS_TASK],
    );
    await startRunners(survivors);
    await until(
      'a survivor to take the name over',
      async () => (dyfi.calls.length >= 2 && (await pendingJobs(observer)) === 0 ? true : undefined),
      { timeoutMs: 30_000, everyMs: 100 },
    );
    assert.equal(dyfi.calls.length, 2, `one update for the takeover: ${JSON.stringify(dyfi.calls)}`);

    const takeover = dyfi.calls[1]!;
    const next = instances.find((i) => i.address === takeover.from)!;
    assert.notEqual(next, holder);
    assert.ok(!next.stopped);
    assert.equal(takeover.answer, `good ${next.address}`);
    const run = runs.find((r) => r.instance === next.id && r.at >= stoppedAt);
    assert.ok(run && new Date(run.ts).getUTCSeconds() === 0, 'it was a cron tick');
    const row = await state();
    assert.deepEqual(
      [row.holder_instance, row.holder_url, row.address, row.updates, row.ok],
      [next.id, next.url, next.address, 2, true],
    );

    // The other survivor's check in the same minute finds the new holder alive and leaves the name alone.
    for (const i of instances) await stopRunner(i);
    const other = instances.find((i) => !i.stopped && i !== next)!;
    assert.deepEqual(await check(other), { action: 'none', reason: `the holder ${next.url} answers` });
    assert.equal(dyfi.calls.length, 2);
  });

  it('two instances finding the holder dead at the same moment update dy.fi once', async () => {
    const [b, c] = instances.filter((i) => !i.stopped);
    await observer.query(
      `update manager.ddns_state set holder_instance = 'manager-gone', holder_url = 'http://127.0.0.9:9' where domain = $1`,
      [NAME],
    );
    const before = dyfi.calls.length;
    const outcomes = await Promise.all([check(b!), check(c!)]);
    assert.equal(outcomes.filter((o) => o.action === 'updated').length, 1, JSON.stringify(outcomes));
    assert.equal(dyfi.calls.length, before + 1);
  });

  it("the holder refreshes the name 5 to 6 days after its update, and dy.fi's nochg counts as success", async () => {
    const holderId = (await state()).holder_instance;
    const holder = instances.find((i) => i.id === holderId)!;
    const other = instances.find((i) => !i.stopped && i !== holder)!;
    const last: Date = (await state()).last_update_at;
    const at = (days: number) => () => new Date(last.getTime() + days * 86_400_000);
    const before = dyfi.calls.length;
    assert.equal(
      (await check(holder, { now: at(4) })).action,
      'none',
      'too early: dy.fi asks for no updates before 5 days',
    );
    assert.equal((await check(other, { now: at(6) })).action, 'none', 'only the holder refreshes');
    assert.equal(dyfi.calls.length, before);
    const refreshed = await check(holder, { now: at(6) });
    assert.deepEqual(refreshed.action === 'updated' && [refreshed.code, refreshed.ok], ['nochg', true]);
    assert.equal((await state()).ok, true);
    assert.equal(dyfi.calls.length, before + 1);
  });

  it('bad credentials are logged clearly, recorded, and retried hourly rather than every minute', async () => {
    const lines: Array<{ level: number; msg: string; result?: string }> = [];
    const log = pino(
      { level: 'info' },
      new Writable({ write: (chunk, _enc, cb) => (lines.push(JSON.parse(String(chunk))), cb()) }),
    );
    const [b, c] = instances.filter((i) => !i.stopped);
    const before = dyfi.calls.length;

    const outcome = await check(b!, { domain: SPARE, pass: 'wrong-password', log });
    assert.deepEqual(outcome.action === 'updated' && [outcome.code, outcome.ok], ['badauth', false]);
    const error = lines.find((l) => l.level === 50);
    assert.ok(error, `an error was logged: ${JSON.stringify(lines)}`);
    assert.match(error.msg, /dy\.fi rejected the credentials \(badauth\): check DYFI_USER and DYFI_PASS/);
    const row = await state(SPARE);
    assert.deepEqual([row.ok, row.last_result, row.updates, row.holder_instance], [false, 'badauth', 1, b!.id]);
    assert.equal(dyfi.names.get(SPARE), undefined, 'the name did not move');

    assert.equal(
      (await check(b!, { domain: SPARE, pass: 'wrong-password', log })).action,
      'none',
      'the next minute backs off',
    );
    assert.equal(
      (await check(c!, { domain: SPARE, pass: 'wrong-password', log })).action,
      'none',
      'other instances leave the retry to the holder',
    );
    assert.equal(dyfi.calls.length, before + 1);
    const hourLater = () => new Date(Date.now() + 61 * 60_000);
    assert.equal(
      (await check(b!, { domain: SPARE, pass: 'wrong-password', log, now: hourLater })).action,
      'updated',
      'an hour later it tries again',
    );
    assert.equal((await state(SPARE)).updates, 2);
  });
});
