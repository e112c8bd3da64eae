import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createHttpSink } from '../../src/worker/sink-http.js';
import { testKey } from '../support/keys.js';
import { assertNoLeaks } from '../support/leaks.js';
import { pingResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { until } from '../support/until.js';
import { cycle, newTally, startBalanced, withRetries, type BalancedService } from './balance-lab.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'nginx');

const POSTERS = 3;
const BATCH = 20;
const PAUSE_MS = 20;

describe('nginx in front of two outputs: one killed under load', { skip }, () => {
  let db: TestDatabase;
  let svc: BalancedService;
  let pool: pg.Pool;
  let apiKey: string;

  before(async () => {
    db = await createTestDatabase('balance_output');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    apiKey = await testKey(db.url, 'worker');
    svc = await startBalanced('output', { env: { DATABASE_URL: db.url }, args: ['--health-port', '0'] });
  });

  after(async () => {
    await svc?.stop();
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  it('stores every result once through kill -9 of one instance and SIGTERM of the other, and each takes results again after its restart', async (t) => {
    const acknowledged: string[] = [];
    const tally = newTally();
    let running = true;
    // As the worker delivers: its own HTTP sink (one kept-alive connection), the same batch again until a 2xx.
    const poster = async (p: number) => {
      const sink = createHttpSink(
        { url: new URL(`${svc.url}/results`) },
        { workerId: `w${p}`, apiKey, timeoutMs: 10_000, log: quietLog },
      );
      try {
        for (let n = 0; running; n++) {
          const batch = Array.from({ length: BATCH }, (_, k) =>
            pingResult(`198.18.${p}.${(n * BATCH + k) % 250}`, { worker: `w${p}` }),
          );
          await withRetries(tally, 'POST /results', async () => {
            const out = await sink.send(batch);
            if (!out.ok) throw new Error(out.reason);
            assert.deepEqual(out.rejected ?? [], [], 'no result refused');
          });
          acknowledged.push(...batch.map((r) => r.id));
          // Load, not a flood: the restarts share this machine's cores with it.
          await sleep(PAUSE_MS);
        }
      } finally {
        await sink.close();
      }
    };
    let failure: Error | undefined;
    const posters = Array.from({ length: POSTERS }, (_, p) =>
      poster(p).catch((err: unknown) => {
        failure ??= err instanceof Error ? err : new Error(String(err));
        running = false;
      }),
    );
    const progress = () => {
      if (failure) throw failure;
      return tally.ok;
    };
    try {
      await until('results to flow through nginx', () => (tally.ok >= 20 ? true : undefined), { timeoutMs: 60_000 });
      const [one, two] = svc.instances as [(typeof svc.instances)[0], (typeof svc.instances)[0]];
      for (const [victim, signal] of [
        [one, 'SIGKILL'],
        [two, 'SIGTERM'],
      ] as const) {
        const step = await cycle(svc, victim, signal, '/results', progress);
        t.diagnostic(
          `${signal} ${victim.name}: it had answered ${step.servedBefore} POST /results; after its restart it answered ${step.servedAfterRestart} by the time we looked`,
        );
      }
    } finally {
      running = false;
      await Promise.all(posters);
    }
    if (failure) throw failure;

    const { rows } = await pool.query<{ id: string }>('select id from measurements.results');
    const stored = rows.map((r) => r.id);
    assert.equal(new Set(stored).size, stored.length, 'no result stored twice');
    assert.equal(new Set(acknowledged).size, acknowledged.length);
    const storedSet = new Set(stored);
    const lost = acknowledged.filter((id) => !storedSet.has(id));
    assert.deepEqual(lost.slice(0, 5), [], `${lost.length} acknowledged result(s) missing`);
    assert.equal(stored.length, acknowledged.length, 'nothing stored that was not sent');

    const retriedByNginx = svc.nginx.accessLog().filter((l) => l.includes('POST /results') && /, /.test(l)).length;
    t.diagnostic(
      `${acknowledged.length} results in ${tally.ok} batches; failed tries the posters retried: ${tally.failedTries} (most tries for one batch: ${tally.maxTries}); batches nginx sent to the other instance itself: ${retriedByNginx}`,
    );
    if (tally.failures.length) t.diagnostic(`failures seen: ${[...new Set(tally.failures)].slice(0, 5).join(' | ')}`);
  });
});
