import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningService } from '../../src/service/start-service.js';
import { postJson, request } from '../support/http-client.js';
import { fetchBatch, startInput, writeTargetDir } from '../support/input-fixture.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { block } from '../support/ip.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

async function drain(url: string, consumer: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const batch = await fetchBatch(url, consumer, 50);
    if (batch.targets.length === 0) return out.sort();
    out.push(...batch.targets);
  }
}

describe('what may be served', { skip }, () => {
  let db: TestDatabase;
  let dir: string;
  let plain: RunningService;
  let lab: RunningService;

  before(async () => {
    db = await createTestDatabase('input_policy');
    dir = writeTargetDir({ 'mixed.txt': '198.18.0.0/30\n20.0.0.0/30\n2600::/126\n192.168.1.0/30\n' });
    plain = await startInput(db.url, { auth: 'off', targets: dir });
    lab = await startInput(db.url, { auth: 'off', allow: [block('198.18.0.0/15')], ipv6: true });
  });

  after(async () => {
    await Promise.all([plain?.stop(), lab?.stop()]);
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('serves IPv4 only and never reserved ranges by default; --allow-cidr and --ipv6 open them explicitly', async () => {
    assert.deepEqual(await drain(plain.url, 'p1'), ['20.0.0.0', '20.0.0.1', '20.0.0.2', '20.0.0.3']);
    assert.deepEqual(await drain(lab.url, 'l1'), [
      '198.18.0.0',
      '198.18.0.1',
      '198.18.0.2',
      '198.18.0.3',
      '20.0.0.0',
      '20.0.0.1',
      '20.0.0.2',
      '20.0.0.3',
      '2600::',
      '2600::1',
      '2600::2',
      '2600::3',
    ]);
  });

  it('keeps a do-not-probe list that any instance honours at once, through the API', async () => {
    const add = await postJson(`${plain.url}/exclusions`, { cidr: '20.0.0.2/31', reason: 'abuse report #12' });
    assert.equal(add.status, 201);
    assert.deepEqual(add.json(), { received: 1, added: 1 });
    const list = (await request(`${lab.url}/exclusions`)).json().exclusions;
    assert.deepEqual(
      list.map((e: { cidr: string; reason: string }) => [e.cidr, e.reason]),
      [['20.0.0.2/31', 'abuse report #12']],
    );

    assert.deepEqual(await drain(lab.url, 'l2'), [
      '198.18.0.0',
      '198.18.0.1',
      '198.18.0.2',
      '198.18.0.3',
      '20.0.0.0',
      '20.0.0.1',
      '2600::',
      '2600::1',
      '2600::2',
      '2600::3',
    ]);

    const bad = await postJson(`${plain.url}/exclusions`, [
      { cidr: '20.0.0.0/8' },
      { cidr: '20.0.0.0/40' },
      { cidr: '20.0.0.0/24', colour: 'red' },
    ]);
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json().error.details, [
      { path: 'body[1].cidr', message: 'prefix length 40 is out of range for IPv4 (0-32)' },
      { path: 'body[2].colour', message: 'Unrecognized key: "colour"' },
    ]);
    assert.equal((await request(`${plain.url}/exclusions`)).json().exclusions.length, 1, 'a refused body adds nothing');

    assert.equal((await request(`${plain.url}/exclusions?cidr=20.0.0.2/31`, { method: 'DELETE' })).status, 204);
    assert.equal((await request(`${plain.url}/exclusions?cidr=20.0.0.2/31`, { method: 'DELETE' })).status, 404);
    assert.deepEqual(await drain(plain.url, 'p2'), ['20.0.0.0', '20.0.0.1', '20.0.0.2', '20.0.0.3']);
  });

  it('rejects a bad batch size or consumer id, naming it', async () => {
    const n = await request(`${plain.url}/targets?n=0`);
    assert.equal(n.status, 400);
    assert.match(n.json().error.message, /query\.n/);
    const big = await request(`${plain.url}/targets?n=5000`);
    assert.equal(big.status, 400);
    const consumer = await request(`${plain.url}/targets`, { headers: { 'x-consumer-id': 'has space' } });
    assert.equal(consumer.status, 400);
    assert.equal(consumer.json().error.code, 'invalid_consumer');
  });
});
