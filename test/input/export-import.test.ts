import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ackLeaseTargets } from '../../src/targets/ack-leases.js';
import type { RunningService } from '../../src/service/start-service.js';
import { postJson, request } from '../support/http-client.js';
import { expand, fetchBatch, interleavingViolations, startInput, writeTargetDir } from '../support/input-fixture.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

describe('export consumer state from one database, import into a fresh one', { skip }, () => {
  let dbA: TestDatabase;
  let dbB: TestDatabase;
  let dir: string;
  let a: RunningService;
  let b: RunningService;

  before(async () => {
    [dbA, dbB] = await Promise.all([createTestDatabase('export_a'), createTestDatabase('export_b')]);
    dir = writeTargetDir({ 'targets.txt': '20.0.0.0/24\n21.0.0.0/25\n22.0.0.7\n' });
    [a, b] = await Promise.all([
      startInput(dbA.url, { auth: 'off', targets: dir, leaseTtlMs: 1_000 }),
      startInput(dbB.url, { auth: 'off', targets: dir, leaseTtlMs: 1_000 }),
    ]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all([dbA?.drop(), dbB?.drop()]);
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('lets consumers continue where they were: every address still exactly once, leases included', async () => {
    const eligible = [...expand('20.0.0.0/24', '21.0.0.0/25', '22.0.0.7'), '30.0.0.1', '30.0.0.2'];
    const seen = new Map<string, string[]>([
      ['e1', []],
      ['e2', []],
    ]);
    // Results acknowledge what was served, as the output service does; only e2's last batch stays open.
    const poolA = new pg.Pool({ connectionString: dbA.url, max: 1 });
    const take = async (consumer: string, n: number) => {
      const batch = await fetchBatch(a.url, consumer, n);
      await ackLeaseTargets(
        poolA,
        batch.targets.map((target) => ({ lease: batch.lease!, target })),
      );
      seen.get(consumer)!.push(...batch.targets);
    };
    for (let i = 0; i < 5; i++) await take('e1', 20);
    assert.equal((await postJson(`${a.url}/hops`, ['30.0.0.1', '30.0.0.2'])).status, 200);
    await take('e1', 20);
    await take('e2', 30);
    await poolA.end();
    // e2's next batch is never acknowledged: its lease must travel with the export and come back.
    const unacked = await fetchBatch(a.url, 'e2', 10);
    assert.equal(unacked.targets.length, 10);

    const exported = await request(`${a.url}/export`);
    assert.equal(exported.status, 200);
    const state = exported.json();
    assert.equal(state.format, 'hopmap-consumers/1');
    assert.deepEqual(state.hops, ['30.0.0.1', '30.0.0.2']);

    const imported = await postJson(`${b.url}/import`, state);
    assert.equal(imported.status, 200, imported.text);
    assert.deepEqual(imported.json(), { consumers: 2, created: 2, hops: 2, leases: 1, unknownBlocks: [] });

    await sleep(1_200); // e2's unacknowledged lease expires and is served again first
    const poolB = new pg.Pool({ connectionString: dbB.url, max: 1 });
    for (const consumer of ['e1', 'e2']) {
      for (;;) {
        const batch = await fetchBatch(b.url, consumer, 25);
        if (batch.targets.length === 0) break;
        await ackLeaseTargets(
          poolB,
          batch.targets.map((target) => ({ lease: batch.lease!, target })),
        );
        seen.get(consumer)!.push(...batch.targets);
      }
      const got = seen.get(consumer)!;
      assert.equal(new Set(got).size, got.length, `${consumer} got an address twice across the move`);
      assert.deepEqual([...got].sort(), [...eligible].sort(), `${consumer} got every address`);
      assert.deepEqual(interleavingViolations(got), []);
    }
    await poolB.end();
  });

  it('refuses a malformed state whole, naming the field, and changes nothing', async () => {
    const before = (await request(`${b.url}/status`)).json().consumers;
    const state = (await request(`${b.url}/export`)).json();
    state.consumers.push({ ...state.consumers[0], id: 'new-one' });
    state.consumers[1].blocks = [{ cidr: '20.0.0.0/33', position: 1, slot: 0 }];
    const res = await postJson(`${b.url}/import`, state);
    assert.equal(res.status, 400);
    assert.deepEqual(res.json().error.details, [{ path: 'body.consumers[1].blocks[0].cidr', message: 'not a CIDR' }]);
    assert.deepEqual((await request(`${b.url}/status`)).json().consumers, before);

    const wrongFormat = await postJson(`${b.url}/import`, { ...state, format: 'something/9' });
    assert.equal(wrongFormat.status, 400);
    assert.match(wrongFormat.json().error.message, /body\.format/);
  });
});
