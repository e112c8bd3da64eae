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
    assert.deepEqual((await fetchBatch(svc.url, 'p', 10)).targets, [], 'still cooling down');

    await sleep(1_600);
    const next = (await fetchBatch(svc.url, 'p', 10)) as Awaited<ReturnType<typeof fetchBatch>> & { pass: number };
    assert.equal(next.pass, 2);
    assert.deepEqual([...next.targets].sort(), ['20.0.0.0', '20.0.0.1', '20.0.0.2', '20.0.0.3', '31.0.0.9']);
  });
});
