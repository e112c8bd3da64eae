import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { RunningService } from '../../src/service/start-service.js';
import { postJson, request, type HttpResponse } from '../support/http-client.js';
import { fetchBatch, startInput, writeTargetDir } from '../support/input-fixture.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const MiB = 1024 * 1024;

function assertErrorShape(res: HttpResponse, status: number, code: string): void {
  assert.equal(res.status, status, res.text.slice(0, 500));
  const body = res.json();
  assert.equal(body.error.code, code, res.text.slice(0, 500));
  assert.equal(typeof body.error.message, 'string');
}

describe('hopmap input: hostile request bodies', { skip }, () => {
  let db: TestDatabase;
  let dir: string;
  let svc: RunningService;
  let client: pg.Client;

  const hops = async (addresses: string[]) =>
    (
      await client.query<{ a: string }>(
        `select host(address) as a from hops where host(address) = any($1) order by 1`,
        [addresses],
      )
    ).rows.map((r) => r.a);
  const exclusions = async () =>
    (await client.query<{ n: number }>(`select count(*)::int as n from target_exclusions`)).rows[0]!.n;
  const stillServes = async () => {
    const res = await postJson(`${svc.url}/hops`, ['31.99.0.1']);
    assert.equal(res.status, 200, res.text);
  };

  before(async () => {
    db = await createTestDatabase('hostile_input');
    dir = writeTargetDir({ 'blocks.txt': '20.0.0.0/28\n' });
    svc = await startInput(db.url, { auth: 'off', targets: dir });
    client = new pg.Client(db.url);
    await client.connect();
  });

  after(async () => {
    await client?.end();
    await svc?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('POST /hops: zone indexes, NULs, bad octets and non-strings are named; the valid hops are added', async () => {
    const res = await postJson(`${svc.url}/hops`, [
      '31.9.0.1',
      'fe80::1%eth0',
      '31.9.0.3\u0000',
      '999.1.1.1',
      7,
      '[2001:db8::1]',
      '31.9.0.2',
    ]);
    assertErrorShape(res, 400, 'invalid_hops');
    const body = res.json();
    assert.deepEqual(
      body.error.details.map((d: { path: string }) => d.path),
      ['hops[1]', 'hops[2]', 'hops[3]', 'hops[4]', 'hops[5]'],
    );
    assert.equal(body.added, 2);
    assert.deepEqual(await hops(['31.9.0.1', '31.9.0.2', '31.9.0.3']), ['31.9.0.1', '31.9.0.2']);
  });

  it('POST /exclusions: a NUL in the reason or a zone in the CIDR is a 400 naming the entry, and nothing is half-added', async () => {
    const before = await exclusions();
    for (const body of [
      [{ cidr: '31.8.0.0/16' }, { cidr: '31.7.0.0/16', reason: 'a\u0000b' }],
      [{ cidr: 'fe80::/64%eth0' }],
      { cidr: '31.6.0.0/16\u0000' },
    ]) {
      const res = await postJson(`${svc.url}/exclusions`, body);
      assertErrorShape(res, 400, 'validation_failed');
      assert.ok(res.json().error.details.length >= 1);
    }
    assert.equal(await exclusions(), before);
    const ok = await postJson(`${svc.url}/exclusions`, { cidr: '31.8.0.0/16', reason: 'test' });
    assert.equal(ok.status, 201, ok.text);
  });

  it('POST /import: values the database would refuse are a 400 naming the field, and the state is untouched', async () => {
    await fetchBatch(svc.url, 'c1', 2);
    const exported = (await request(`${svc.url}/export`)).json();
    assert.ok(exported.consumers.length >= 1);
    const breakers: Array<[string, (s: any) => void]> = [
      ['consumers[0].id', (s) => (s.consumers[0].id = 'c\u00001')],
      ['consumers[0].last_prefix', (s) => (s.consumers[0].last_prefix = '20.0.0.0/24\u0000')],
      ['consumers[0].pass_started_at', (s) => (s.consumers[0].pass_started_at = '0000-01-01T00:00:00Z')],
      ['consumers[0].pass', (s) => (s.consumers[0].pass = 2 ** 31)],
      ['hops[0]', (s) => (s.hops = ['fe80::1%eth0'])],
      [
        'consumers[0].blocks[0].slot',
        (s) => (s.consumers[0].blocks = [{ cidr: '20.0.0.0/28', position: 0, slot: 40_000 }]),
      ],
      [
        'consumers[0].leases[0].targets[0]',
        (s) =>
          (s.consumers[0].leases = [
            {
              id: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
              pass: 1,
              state: 'open',
              targets: [' 20.0.0.1'],
              acked: [],
              issued_at: '2026-01-01T00:00:00Z',
              expires_at: '2026-01-01T00:05:00Z',
            },
          ]),
      ],
    ];
    const consumersBefore = (await client.query(`select id, pass, served_total from consumers order by id`)).rows;
    for (const [path, breakIt] of breakers) {
      const state = structuredClone(exported);
      breakIt(state);
      const res = await postJson(`${svc.url}/import`, state);
      assertErrorShape(res, 400, 'validation_failed');
      assert.ok(
        res
          .json()
          .error.details.some((d: { path: string }) => d.path === `body.${path}` || d.path.startsWith(`body.${path}`)),
        `${path}: ${res.text}`,
      );
    }
    assert.deepEqual(
      (await client.query(`select id, pass, served_total from consumers order by id`)).rows,
      consumersBefore,
    );
    const ok = await postJson(`${svc.url}/import`, exported);
    assert.equal(ok.status, 200, ok.text);
  });

  it('corrupt compression is 400, an unknown encoding 415, and decoded bytes count against the limit (413), on every body route', async () => {
    const post = (path: string, body: Buffer, encoding: string) =>
      request(`${svc.url}${path}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
      });
    // 2 MiB of gzip, 64 MiB of JSON once decoded: gzip members concatenate.
    const member = gzipSync(`${'"31.9.9.9",'.repeat((2 * MiB) / 11)}`, { level: 9 });
    const bomb = Buffer.concat([gzipSync('['), ...Array.from({ length: 32 }, () => member), gzipSync('"31.9.9.9"]')]);
    for (const path of ['/hops', '/exclusions', '/import']) {
      assertErrorShape(await post(path, Buffer.from('not gzip'), 'gzip'), 400, 'invalid_encoding');
      assertErrorShape(await post(path, gzipSync('["31.9.0.9"]').subarray(0, 15), 'gzip'), 400, 'invalid_encoding');
      assertErrorShape(await post(path, Buffer.from('not brotli'), 'br'), 400, 'invalid_encoding');
      assertErrorShape(await post(path, Buffer.from('[]'), 'zstd'), 415, 'unsupported_encoding');
      assertErrorShape(await post(path, bomb, 'gzip'), 413, 'payload_too_large');
    }
    assertErrorShape(
      await request(`${svc.url}/hops`, {
        method: 'POST',
        body: '["31.9.0.9"',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'invalid_json',
    );
    const gz = await post('/hops', gzipSync('["31.9.0.9"]'), 'gzip');
    assert.equal(gz.status, 200, gz.text);
    assert.deepEqual(await hops(['31.9.0.9']), ['31.9.0.9']);
    await stillServes();
  });

  it('a NUL in a query or path parameter is a 400', async () => {
    assertErrorShape(
      await request(`${svc.url}/exclusions?cidr=31.8.0.0/16%00`, { method: 'DELETE' }),
      400,
      'invalid_parameter',
    );
    assertErrorShape(
      await request(`${svc.url}/targets?n=1%00`, { headers: { 'x-consumer-id': 'c1' } }),
      400,
      'invalid_parameter',
    );
    assertErrorShape(await request(`${svc.url}/status%00`), 400, 'invalid_parameter');
    assert.equal((await request(`${svc.url}/exclusions?cidr=31.8.0.0/16`, { method: 'DELETE' })).status, 204);
    await stillServes();
  });
});
