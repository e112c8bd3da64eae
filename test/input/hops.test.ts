import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningService } from '../../src/service/start-service.js';
import { postJson, request } from '../support/http-client.js';
import { expand, fetchBatch, startInput, writeTargetDir } from '../support/input-fixture.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

describe('discovered hops', { skip }, () => {
  let db: TestDatabase;
  let dir: string;
  let a: RunningService;
  let b: RunningService;

  before(async () => {
    db = await createTestDatabase('input_hops');
    dir = writeTargetDir({ 'blocks.txt': '20.0.0.0/28\n' });
    [a, b] = await Promise.all([
      startInput(db.url, { auth: 'off', targets: dir }),
      startInput(db.url, { auth: 'off' }),
    ]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('reach every consumer exactly once, freshest first; a hop inside a block or posted twice is not added again', async () => {
    const consumers = ['c1', 'c2', 'c3'];
    const got = new Map<string, string[]>();
    for (const c of consumers) got.set(c, (await fetchBatch(a.url, c, 4)).targets);

    const first = await postJson(`${a.url}/hops`, ['31.0.0.1', '31.0.1.1', '20.0.0.5', '31.0.0.1', '10.1.2.3']);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.json(), { received: 5, added: 3, covered: 1, duplicate: 1, rejected: 0 });
    const second = await postJson(`${b.url}/hops`, { hops: ['31.0.1.1', '32.0.0.1'] });
    assert.deepEqual(second.json(), { received: 2, added: 1, covered: 0, duplicate: 1, rejected: 0 });

    for (const c of consumers) {
      for (let i = 0; ; i++) {
        const batch = await fetchBatch(i % 2 ? a.url : b.url, c, 3);
        if (batch.targets.length === 0) break;
        got.get(c)!.push(...batch.targets);
      }
      const seq = got.get(c)!;
      const expected = [...expand('20.0.0.0/28'), '31.0.0.1', '31.0.1.1', '32.0.0.1'].sort();
      assert.deepEqual(
        [...seq].sort(),
        expected,
        `${c} got every block address and every new hop once; never the reserved 10.1.2.3`,
      );
      assert.ok(
        seq.indexOf('32.0.0.1') < seq.indexOf('31.0.1.1') && seq.indexOf('31.0.1.1') < seq.indexOf('31.0.0.1'),
        `freshest first: ${seq.join(' ')}`,
      );
    }

    const metrics = (await request(`${a.url}/metrics`)).text;
    assert.match(metrics, /^hopmap_hops_new_total\{service="input"\} 3$/m);
    assert.match(metrics, /^hopmap_hops_covered_total\{service="input"\} 1$/m);
  });

  it('reach a consumer in one pass even when ids are sparse (repeated posts use up ids) and the pass is short', async () => {
    // 300 posts of the same hop burn 300 ids between every two real hops: gaps that hold no hop.
    const hops = Array.from({ length: 30 }, (_, i) => `34.0.${i}.1`);
    for (const hop of hops) {
      assert.equal((await postJson(`${a.url}/hops`, [hop])).status, 200);
      assert.equal((await postJson(`${a.url}/hops`, Array(300).fill(hop))).json().duplicate, 300);
    }
    const got: string[] = [];
    for (;;) {
      const batch = await fetchBatch(b.url, 'sparse', 7);
      if (batch.targets.length === 0) break;
      got.push(...batch.targets);
    }
    for (const hop of hops) assert.ok(got.includes(hop), `${hop} was served in the pass (got ${got.length} targets)`);
  });

  it('adds the valid entries of a body with bad ones and answers 400 naming each bad entry', async () => {
    const res = await postJson(`${b.url}/hops`, {
      hops: ['33.0.0.1', '999.1.1.1', null, 'fe80::1%eth0', '2001:db8::1'],
    });
    assert.equal(res.status, 400);
    const body = res.json();
    assert.equal(body.error.code, 'invalid_hops');
    assert.deepEqual(
      body.error.details.map((d: { path: string }) => d.path),
      ['hops[1]', 'hops[2]', 'hops[3]'],
    );
    assert.match(body.error.message, /3 of 5 hops rejected \(the valid ones were added\)/);
    assert.deepEqual({ added: body.added, rejected: body.rejected }, { added: 2, rejected: 3 });
    const again = await postJson(`${a.url}/hops`, ['33.0.0.1']);
    assert.deepEqual(again.json(), { received: 1, added: 0, covered: 0, duplicate: 1, rejected: 0 });
  });

  it('names a bad entry of a bare array hops[i] too, as docs/targets.md says, in the one error shape', async () => {
    const res = await postJson(`${a.url}/hops`, ['33.0.0.2', 7, '33.0.0.3', '999.1.1.1']);
    assert.equal(res.status, 400);
    const body = res.json();
    assert.equal(body.error.code, 'invalid_hops');
    assert.deepEqual(body.error.details, [
      { path: 'hops[1]', message: 'expected a string, got number' },
      { path: 'hops[3]', message: 'not an IPv4 or IPv6 address: "999.1.1.1"' },
    ]);
    assert.match(body.error.message, /hops\[3\]: not an IPv4 or IPv6 address: "999\.1\.1\.1"/);
    assert.doesNotMatch(body.error.message, /(^|[^s])\[\d\]/, 'no entry named by its index alone');
  });

  it('rejects a body that is not a list, malformed JSON, and an oversized body, in the one error shape', async () => {
    const notList = await postJson(`${a.url}/hops`, { hop: '1.2.3.4' });
    assert.equal(notList.status, 400);
    assert.match(notList.json().error.message, /expected a JSON array of IP address strings/);

    const malformed = await postJson(`${a.url}/hops`, '["1.2.3.4",');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json().error.code, 'invalid_json');

    const huge = await postJson(
      `${a.url}/hops`,
      JSON.stringify(Array.from({ length: 800_000 }, (_, i) => `40.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)),
    );
    assert.equal(huge.status, 413);
    assert.equal(huge.json().error.code, 'payload_too_large');
  });
});
