import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { RunningService } from '../../src/service/start-service.js';
import { request } from '../support/http-client.js';
import { expand, fetchBatch, interleavingViolations, startInput, writeTargetDir } from '../support/input-fixture.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const FILES = {
  'alpha.txt':
    '# provider alpha\n20.0.0.0/22\n20.0.8.0/24\n20.0.9.5\n20.0.9.6   # two single addresses in one /24\n10.0.0.0/24\nnot-a-cidr\n20.0.12.1/24\n',
  'beta.txt': '20.0.0.0/24\n21.5.0.0/28\n21.5.0.16/28\n\n22.0.0.1\n',
};
const EXCLUDED = '20.0.1.0/26';
const ELIGIBLE = new Set(
  expand('20.0.0.0/22', '20.0.8.0/24', '20.0.9.5', '20.0.9.6', '21.5.0.0/28', '21.5.0.16/28', '22.0.0.1'),
);
for (const a of expand(EXCLUDED)) ELIGIBLE.delete(a);

describe('hopmap input: one pass, two instances, five consumers', { skip }, () => {
  let db: TestDatabase;
  let dir: string;
  let a: RunningService;
  let b: RunningService;

  before(async () => {
    db = await createTestDatabase('serve_pass');
    dir = writeTargetDir(FILES);
    writeFileSync(join(dir, 'exclude.conf'), `${EXCLUDED}  # asked not to be probed\n`);
    [a, b] = await Promise.all([
      startInput(db.url, { auth: 'off', targets: dir, exclude: join(dir, 'exclude.conf') }),
      startInput(db.url, { auth: 'off', targets: dir, exclude: join(dir, 'exclude.conf') }),
    ]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('gives each consumer every eligible address exactly once, interleaved by /24, never a reserved or excluded one', async () => {
    const consumers = ['w1', 'w2', 'w3', 'w4', 'w5'];
    const received = new Map<string, string[]>(consumers.map((c) => [c, []]));

    // Each consumer has two fetchers, one per instance, running at once until the pass is exhausted.
    await Promise.all(
      consumers.flatMap((consumer) =>
        [a, b].map(async (svc, i) => {
          for (;;) {
            const batch = await fetchBatch(svc.url, consumer, 37 + i * 13);
            if (batch.targets.length === 0) {
              assert.ok(batch.retry_after_seconds! > 0, 'an exhausted pass says when to come back');
              return;
            }
            received.get(consumer)!.push(...batch.targets);
          }
        }),
      ),
    );

    const client = new pg.Client(db.url);
    await client.connect();
    try {
      for (const consumer of consumers) {
        const got = received.get(consumer)!;
        assert.equal(new Set(got).size, got.length, `${consumer} received an address twice`);
        assert.deepEqual(new Set(got), ELIGIBLE, `${consumer} received exactly the eligible addresses`);

        // The order the server issued them in (leases of one consumer are serialised by its row lock).
        const { rows } = await client.query<{ targets: string[] }>(
          `select array(select host(t) from unnest(targets) t) as targets from leases where consumer_id = $1 order by issued_at`,
          [consumer],
        );
        const sequence = rows.flatMap((r) => r.targets);
        assert.equal(sequence.length, ELIGIBLE.size);
        assert.deepEqual(interleavingViolations(sequence), [], `${consumer}: consecutive addresses shared a /24`);
      }
      // Different consumers walk in different orders.
      assert.notDeepEqual(received.get('w1')!.slice(0, 50), received.get('w2')!.slice(0, 50));
    } finally {
      await client.end();
    }
  });

  it('reports the pool and every consumer on /status, and the bad target line was skipped', async () => {
    const status = (await request(`${a.url}/status`)).json();
    assert.equal(status.pool.sources, 2);
    // 20.0.0.0/24 of beta.txt lies inside alpha's /22, so it is loaded but not effective.
    assert.equal(status.pool.active_blocks, 9);
    assert.equal(status.pool.effective_blocks, 8);
    assert.equal(status.consumers.length, 5);
    for (const c of status.consumers) {
      assert.equal(c.state, 'cooldown');
      assert.equal(Number(c.served_in_pass), ELIGIBLE.size);
    }
    const client = new pg.Client(db.url);
    await client.connect();
    const { rows } = await client.query(`select source, skipped from target_sources order by source`);
    await client.end();
    assert.deepEqual(rows, [
      { source: 'alpha.txt', skipped: 2 },
      { source: 'beta.txt', skipped: 0 },
    ]);
    const metrics = (await request(`${a.url}/metrics`)).text;
    assert.match(metrics, /^hopmap_targets_served_total\{service="input"\} \d+/m);
    assert.match(metrics, /^hopmap_consumer_served_in_pass\{consumer="w1",service="input"\} \d+/m);
  });

  it('serves a single address as text on GET / and 204 with Retry-After when the pass is over', async () => {
    const first = await request(`${a.url}/?consumer=solo`);
    assert.equal(first.status, 200);
    assert.match(first.headers['content-type'] ?? '', /text\/plain/);
    assert.ok(ELIGIBLE.has(first.text.trim()), first.text);
    assert.ok(first.headers['x-lease-id']);

    for (let i = 0; i < ELIGIBLE.size - 1; i++) assert.equal((await request(`${b.url}/?consumer=solo`)).status, 200);
    const done = await request(`${a.url}/?consumer=solo`);
    assert.equal(done.status, 204);
    assert.ok(Number(done.headers['retry-after']) > 0);
  });
});
