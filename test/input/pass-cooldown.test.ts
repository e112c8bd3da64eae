import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { RunningService } from '../../src/service/start-service.js';
import { postJson } from '../support/http-client.js';
import { fetchBatch, startInput, writeTargetDir } from '../support/input-fixture.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

describe('passes', { skip }, () => {
  let db: TestDatabase;
  let dir: string;
  let svc: RunningService;

  before(async () => {
    db = await createTestDatabase('pass_cooldown');
    dir = writeTargetDir({ 'small.txt': '20.0.0.0/30\n' });
    svc = await startInput(db.url, { auth: 'off', targets: dir, passCooldownMs: 1_500 });
  });

  after(async () => {
    await svc?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('after the cooldown, a new pass begins with everything added meanwhile', async () => {
    const first = await fetchBatch(svc.url, 'p', 10);
    assert.equal(first.targets.length, 4);
    const waiting = await fetchBatch(svc.url, 'p', 10);
    assert.deepEqual(waiting.targets, []);
    assert.equal(waiting.lease, null);
    assert.ok(
      waiting.retry_after_seconds! >= 1 && waiting.retry_after_seconds! <= 2,
      String(waiting.retry_after_seconds),
    );

    assert.equal((await postJson(`${svc.url}/hops`, ['31.0.0.9'])).json().added, 1);
    const between = await fetchBatch(svc.url, 'p', 10);
    assert.deepEqual(between.targets, ['31.0.0.9'], 'a new hop is served between passes');
    assert.equal(between.retry_after_seconds, undefined);
    assert.deepEqual((await fetchBatch(svc.url, 'p', 10)).targets, [], 'the pool itself still cools down');

    await sleep(1_600);
    const next = (await fetchBatch(svc.url, 'p', 10)) as Awaited<ReturnType<typeof fetchBatch>> & { pass: number };
    assert.equal(next.pass, 2);
    assert.deepEqual([...next.targets].sort(), ['20.0.0.0', '20.0.0.1', '20.0.0.2', '20.0.0.3', '31.0.0.9']);
  });

  it('a hop fed back while consumers cool down reaches every one of them on its next request', async () => {
    const consumers = ['c1', 'c2', 'c3'];
    for (const c of consumers) {
      assert.ok((await fetchBatch(svc.url, c, 10)).targets.length > 0);
      assert.deepEqual((await fetchBatch(svc.url, c, 10)).targets, [], `${c} is between passes`);
    }
    // No two in a row from one /24 while another /24 is left.
    assert.equal((await postJson(`${svc.url}/hops`, ['33.0.0.1', '33.0.0.2', '34.0.0.1'])).json().added, 3);
    for (const c of consumers) {
      const { targets } = await fetchBatch(svc.url, c, 10);
      assert.deepEqual([...targets].sort(), ['33.0.0.1', '33.0.0.2', '34.0.0.1'], c);
      assert.ok(
        targets.every((t, i) => i === 0 || t.split('.')[0] !== targets[i - 1]!.split('.')[0]),
        `${c}: ${targets.join(', ')}`,
      );
      assert.deepEqual((await fetchBatch(svc.url, c, 10)).targets, [], `${c}: each hop once`);
    }
  });
});

describe('a long pass cooldown', { skip }, () => {
  let db: TestDatabase;
  let dir: string;
  let svc: RunningService;

  before(async () => {
    db = await createTestDatabase('pass_cooldown_long');
    dir = writeTargetDir({ 'small.txt': '20.0.0.0/31\n' });
    svc = await startInput(db.url, { auth: 'off', targets: dir, passCooldownMs: 60 * 60_000 });
  });

  after(async () => {
    await svc?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tells a consumer to ask again within a minute, which is how late a new hop can reach it', async () => {
    assert.equal((await fetchBatch(svc.url, 'p', 10)).targets.length, 2);
    const waiting = await fetchBatch(svc.url, 'p', 10);
    assert.deepEqual(waiting.targets, []);
    assert.equal(waiting.retry_after_seconds, 60);
    await postJson(`${svc.url}/hops`, ['31.0.0.9']);
    assert.deepEqual((await fetchBatch(svc.url, 'p', 10)).targets, ['31.0.0.9']);
  });
});
