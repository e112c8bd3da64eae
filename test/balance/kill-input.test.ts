import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ackLeaseTargets } from '../../src/targets/ack-leases.js';
import { targetSource, type TargetBatch } from '../../src/worker/target-source.js';
import { expand, writeTargetDir } from '../support/input-fixture.js';
import { testKey } from '../support/keys.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
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

const LEASE_TTL_S = 3;
const TARGETS = '21.0.0.0/18';
const CONSUMERS = ['k1', 'k2'];
const PAUSE_MS = 20;

describe('nginx in front of two inputs: one killed under load', { skip }, () => {
  let db: TestDatabase;
  let dir: string;
  let svc: BalancedService;
  let pool: pg.Pool;
  /** Each consumer's worker key, named after it. */
  const keys = new Map<string, string>();

  before(async () => {
    db = await createTestDatabase('balance_input');
    dir = writeTargetDir({ 'targets.txt': `${TARGETS}\n` });
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    for (const c of CONSUMERS) keys.set(c, await testKey(db.url, 'worker', c));
    svc = await startBalanced('input', {
      env: { DATABASE_URL: db.url },
      args: ['--lease-ttl', `${LEASE_TTL_S}s`],
      firstArgs: ['--targets', dir],
    });
  });

  after(async () => {
    await svc?.stop();
    // The worker's target source uses node's global agent, which keeps connections alive.
    http.globalAgent.destroy();
    await pool?.end();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('serves every address once per consumer through kill -9 of one instance and SIGTERM of the other, and each takes leases again after its restart', async (t) => {
    const received = new Map<string, string[]>(CONSUMERS.map((c) => [c, []]));
    const tally = newTally();
    let running = true;
    let failure: Error | undefined;
    // As a worker leases: its own target source; the output acknowledges what it measured (here the test, directly).
    const lease = async (consumer: string, n: number): Promise<TargetBatch> => {
      const source = targetSource(svc.url, { workerId: consumer, apiKey: keys.get(consumer) });
      const batch = await withRetries(tally, 'GET /targets', () => source.next(n));
      received.get(consumer)!.push(...batch.targets);
      if (batch.lease)
        await ackLeaseTargets(
          pool,
          batch.targets.map((target) => ({ lease: batch.lease!, target })),
        );
      return batch;
    };
    const consumers = CONSUMERS.map(async (c) => {
      try {
        while (running) {
          await lease(c, 4);
          await sleep(PAUSE_MS);
        }
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err));
        running = false;
      }
    });
    const progress = () => {
      if (failure) throw failure;
      return tally.ok;
    };
    try {
      await until('leases to flow through nginx', () => (progress() >= 20 ? true : undefined), { timeoutMs: 60_000 });
      const [one, two] = svc.instances as [ServiceInstance, ServiceInstance];
      for (const [victim, signal] of [
        [one, 'SIGKILL'],
        [two, 'SIGTERM'],
      ] as const) {
        const step = await cycle(svc, victim, signal, '/targets', progress);
        t.diagnostic(
          `${signal} ${victim.name}: it had answered ${step.servedBefore} GET /targets; after its restart ${step.servedAfterRestart} when we looked`,
        );
      }
    } finally {
      running = false;
      await Promise.all(consumers);
    }
    if (failure) throw failure;
    const midway = CONSUMERS.map((c) => received.get(c)!.length);
    assert.ok(
      midway.every((n) => n < expand(TARGETS).length),
      `the pass was still going when the drill ended (${midway.join(', ')})`,
    );

    // The rest of the pass; then what was leased on an instance that died before answering comes back after its TTL.
    const drain = async (c: string) => {
      while ((await lease(c, 1000)).targets.length > 0);
    };
    // Up to three times: drain, then wait until the open leases have expired (none open: nothing comes back).
    for (let round = 0; round < 3; round++) {
      await Promise.all(CONSUMERS.map(drain));
      const { rows: open } = await pool.query<{ ms: number | null }>(
        `select ceil(extract(epoch from max(expires_at) - clock_timestamp()) * 1000)::int as ms from leases where state = 'open'`,
      );
      if (open[0]!.ms === null) break;
      await sleep(Math.max(0, open[0]!.ms) + 500);
    }
    await Promise.all(CONSUMERS.map(drain));

    const eligible = new Set(expand(TARGETS));
    for (const c of CONSUMERS) {
      const got = received.get(c)!;
      assert.equal(
        new Set(got).size,
        got.length,
        `${c} received an address twice (${got.length - new Set(got).size} repeats)`,
      );
      assert.equal(got.length, eligible.size, `${c} received every address`);
      assert.ok(got.every((a) => eligible.has(a)));
    }
    const { rows } = await pool.query(
      `select count(*) filter (where state = 'open')::int as open, count(*) filter (where state = 'reissued')::int as reissued from leases`,
    );
    assert.equal(rows[0].open, 0, 'no lease is left unacknowledged');
    const retriedByNginx = svc.nginx.accessLog().filter((l) => l.includes('GET /targets') && /, /.test(l)).length;
    t.diagnostic(
      `${tally.ok} leases; failed tries the consumers retried: ${tally.failedTries} (most tries for one: ${tally.maxTries}); requests nginx sent on to the other instance: ${retriedByNginx}; leases served again after their TTL: ${rows[0].reissued}`,
    );
    if (tally.failures.length) t.diagnostic(`failures seen: ${[...new Set(tally.failures)].slice(0, 5).join(' | ')}`);
  });
});
