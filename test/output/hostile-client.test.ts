import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import type { Result } from '../../src/results/result-schema.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { pollUntil, postJson, request, type HttpResponse } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { pingResult, traceResult } from '../support/result-factory.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const MiB = 1024 * 1024;
const ndjson = (items: unknown[]) => items.map((x) => JSON.stringify(x)).join('\n');
const postNdjson = (url: string, body: string | Buffer, encoding = 'gzip') =>
  request(url, {
    method: 'POST',
    body: encoding === 'gzip' ? gzipSync(body) : body,
    headers: {
      'content-type': 'application/x-ndjson',
      ...(encoding === 'identity' ? {} : { 'content-encoding': encoding }),
    },
  });

/** A gzip body that decodes to `member`'s text `times` over: gzip members concatenate, so a bomb costs one member. */
function bomb(member: string | Buffer, times: number): Buffer {
  const one = gzipSync(member, { level: 9 });
  return Buffer.concat(Array.from({ length: times }, () => one));
}

function assertErrorShape(res: HttpResponse, status: number, code: string): void {
  assert.equal(res.status, status, res.text.slice(0, 500));
  const body = res.json();
  assert.equal(body.error.code, code, res.text.slice(0, 500));
  assert.equal(typeof body.error.message, 'string');
}

/** The hostile items a worker (or someone posing as one) might send, each in the middle of two good ones. */
const HOSTILE: Array<{ name: string; make: () => Result; field: string }> = [
  { name: 'a target octet over 255', make: () => pingResult('999.1.1.1'), field: 'target' },
  { name: 'a target with a zone index', make: () => pingResult('fe80::1%eth0'), field: 'target' },
  {
    name: 'a hop address containing a quote',
    make: () => traceResult('20.40.0.9', ['198.51.100.40"', '20.40.0.9']),
    field: 'hops[0].probes[0].from',
  },
  { name: 'a NUL in worker', make: () => pingResult('20.40.0.10', { worker: 'w\u00001' }), field: 'worker' },
];

describe('hopmap output: hostile request bodies', { skip }, () => {
  let db: TestDatabase;
  let svc: RunningService;
  let client: pg.Client;

  const stored = async (ids: string[]) =>
    (
      await client.query<{ n: number }>(
        `select count(*)::int as n from measurements.results where id = any($1::uuid[])`,
        [ids],
      )
    ).rows[0]!.n;
  const stillServes = async (url: string) => {
    const good = pingResult('20.40.9.9');
    const res = await postJson(`${url}/results`, good);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().accepted, 1);
  };

  before(async () => {
    db = await createTestDatabase('hostile_output');
    svc = await startService(outputService({ ...outputWiring, auth: 'off' }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    client = new pg.Client(db.url);
    await client.connect();
  });

  after(async () => {
    await client?.end();
    await svc?.stop();
    await db?.drop();
    await assertNoLeaks();
  });

  for (const bad of HOSTILE) {
    for (const form of ['JSON', 'NDJSON'] as const) {
      it(`${form}: a batch with ${bad.name} is a 400 naming that item, and the valid items are stored`, async () => {
        const good = [pingResult('20.40.1.1'), traceResult('20.40.1.2', ['198.51.100.41', '20.40.1.2'])];
        const items = [good[0], bad.make(), good[1]];
        const res =
          form === 'JSON'
            ? await postJson(`${svc.url}/results`, items)
            : await postNdjson(`${svc.url}/results`, ndjson(items));
        assertErrorShape(res, 400, 'invalid_results');
        const body = res.json();
        assert.equal(body.accepted, 2);
        assert.equal(body.rejected, 1);
        assert.ok(
          body.errors.every((e: { index: number }) => e.index === 1),
          res.text,
        );
        assert.ok(
          body.errors.some((e: { field: string }) => e.field === bad.field),
          res.text,
        );
        assert.equal(await stored(good.map((r) => r.id)), 2);
      });
    }
  }

  it('an item PostgreSQL refuses after validation is named alone (the batch is split), the rest stored, ids still idempotent', async () => {
    // Stands in for a schema gap: a constraint the schema knows nothing about (class 23 when violated).
    await client.query(
      `alter table measurements.results add constraint hostile_test_worker check (worker <> 'refused-by-db')`,
    );
    try {
      const items = Array.from({ length: 9 }, (_, i) =>
        pingResult(`20.41.0.${i + 1}`, { worker: i === 5 ? 'refused-by-db' : 'w1' }),
      );
      const res = await postJson(`${svc.url}/results`, items);
      assertErrorShape(res, 400, 'invalid_results');
      const body = res.json();
      assert.equal(body.accepted, 8);
      assert.equal(body.rejected, 1);
      assert.deepEqual(
        body.errors.map((e: { index: number }) => e.index),
        [5],
      );
      assert.match(body.errors[0].message, /^could not be stored: /);
      assert.doesNotMatch(
        body.errors[0].message,
        /hostile_test_worker|measurements/,
        'no table or constraint names in the answer',
      );
      assert.equal(await stored(items.map((r) => r.id)), 8);
      const again = await postJson(
        `${svc.url}/results`,
        items.filter((_, i) => i !== 5),
      );
      assert.deepEqual([again.status, again.json().duplicate, again.json().accepted], [200, 8, 0]);
    } finally {
      await client.query(`alter table measurements.results drop constraint hostile_test_worker`);
    }
  });

  it('a NUL in a query or path parameter is a 400, on the query and route-history routes alike', async () => {
    for (const path of [
      '/recent?ip=%00',
      '/recent?ip=20.40.1.1%00',
      '/routes/changes?worker=w%001',
      '/routes/path?worker=w1&target=20.40.1.1%00',
      '/results%00',
    ]) {
      assertErrorShape(await request(`${svc.url}${path}`), 400, 'invalid_parameter');
    }
    assert.equal((await request(`${svc.url}/recent?ip=20.40.1.1`)).status, 200);
  });

  it('JSON path: corrupt gzip and a body that is not br are 400, an unknown encoding 415, a real br body works', async () => {
    const body = JSON.stringify(pingResult('20.42.0.1'));
    const post = (buf: Buffer, encoding: string, type = 'application/json') =>
      request(`${svc.url}/results`, {
        method: 'POST',
        body: buf,
        headers: { 'content-type': type, 'content-encoding': encoding },
      });
    assertErrorShape(await post(Buffer.from('not gzip at all'), 'gzip'), 400, 'invalid_encoding');
    assertErrorShape(await post(gzipSync(body).subarray(0, 20), 'gzip'), 400, 'invalid_encoding');
    assertErrorShape(await post(Buffer.from('not brotli'), 'br'), 400, 'invalid_encoding');
    assertErrorShape(await post(Buffer.from(body), 'zstd'), 415, 'unsupported_encoding');
    assertErrorShape(await post(Buffer.from(body), 'compress'), 415, 'unsupported_encoding');
    assertErrorShape(await post(Buffer.from(body), 'compress', 'application/x-ndjson'), 415, 'unsupported_encoding');
    assertErrorShape(
      await post(gzipSync(body).subarray(0, 20), 'gzip', 'application/x-ndjson'),
      400,
      'invalid_encoding',
    );
    const br = await post(brotliCompressSync(body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } }), 'br');
    assert.equal(br.status, 200, br.text);
    await stillServes(svc.url);
  });

  it('JSON path: every decompressed byte counts, so a gzip that decodes past the limit is a 413', async () => {
    // 2 MiB of gzip, 64 MiB of JSON: far under the limit as sent, far over it decoded.
    const inner = `[${'"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",'.repeat((2 * MiB) / 32)}1]`;
    const res = await request(`${svc.url}/results`, {
      method: 'POST',
      body: bomb(inner, 32),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    assertErrorShape(res, 413, 'payload_too_large');
    await stillServes(svc.url);
  });

  it('NDJSON: a line over the limit is rejected by its number, never held, and the lines around it are stored', async () => {
    const good = [pingResult('20.43.0.1'), pingResult('20.43.0.2')];
    const body = `${JSON.stringify(good[0])}\r\n{"worker":"${'x'.repeat(3 * MiB)}"}\r\n${JSON.stringify(good[1])}\r\n`;
    const res = await postNdjson(`${svc.url}/results`, body);
    assertErrorShape(res, 400, 'invalid_results');
    assert.equal(res.json().accepted, 2);
    assert.deepEqual(
      res.json().errors.map((e: { index: number; field: string }) => [e.index, e.field]),
      [[1, '(line)']],
    );
    assert.match(res.json().errors[0].message, /line 2 is longer than/);
    assert.equal(await stored(good.map((r) => r.id)), 2);
  });

  it('too many bad items: the rest of the body is left unread, and what came before is stored', async () => {
    const good = pingResult('20.44.0.1');
    const items = [good, ...Array.from({ length: 12_000 }, () => ({ format: 'nope' })), pingResult('20.44.0.2')];
    for (const res of [
      await postJson(`${svc.url}/results`, items),
      await postNdjson(`${svc.url}/results`, ndjson(items)),
    ]) {
      assertErrorShape(res, 400, 'too_many_invalid');
      assert.match(res.json().error.message, /was not read/);
      assert.equal(res.json().rejected, 10_000);
      assert.equal(res.json().read_all, false, 'a client must know the rest was neither stored nor rejected');
    }
    assert.equal(await stored([good.id]), 1);
    await stillServes(svc.url);
  });
});

describe('hopmap output: bombs against a real process', { skip }, () => {
  let db: TestDatabase;
  let proc: Spawned;
  let url: string;
  const pid = () => proc.child.pid!;

  before(async () => {
    db = await createTestDatabase('hostile_output_bombs');
    const src = (p: string) => new URL(`../../src/${p}`, import.meta.url).href;
    // The service as `hopmap output` runs it, without the CLI (so this test does not depend on its flags).
    const script = `
      const { startService } = await import(${JSON.stringify(src('service/start-service.ts'))});
      const { outputService } = await import(${JSON.stringify(src('output/output-service.ts'))});
      const { outputWiring } = await import(${JSON.stringify(src('cli/output-wiring.ts'))});
      const { createLogger } = await import(${JSON.stringify(src('log/create-logger.ts'))});
      const s = await startService(outputService({ ...outputWiring, auth: 'off' }), { databaseUrl: process.env.DATABASE_URL, host: '127.0.0.1', port: 0, bodyLimit: process.env.BODY_LIMIT, log: createLogger({ level: 'warn', pretty: false }) });
      console.log('listening ' + s.url);
      process.on('SIGTERM', () => s.stop().then(() => process.exit(0)));`;
    // A body limit far above the default, so the caps on bad input (not the limit) must bound the bombs.
    proc = spawnNode(['--input-type=module', '-e', script], { DATABASE_URL: db.url, BODY_LIMIT: '1gb' });
    url = (await proc.waitFor(/listening (http:\S+)/))[1]!;
    assert.equal((await pollUntil(`${url}/ready`, (r) => r.status === 200)).status, 200);
  });

  after(async () => {
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
    await proc?.exited;
    await db?.drop();
    await assertNoLeaks();
  });

  /** CPU seconds (user + system) the service process has used, from /proc. */
  const cpuSeconds = () => {
    assert.equal(proc.child.exitCode, null, `the service died:\n${proc.output()}`);
    const fields = readFileSync(`/proc/${pid()}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  const memoryMiB = (field: 'VmRSS' | 'VmHWM') =>
    Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid()}/status`, 'utf8'))![1]) / 1024;

  async function assertBounded(body: Buffer, want: { status: number; code: string }): Promise<string> {
    const cpu = cpuSeconds();
    const rss = memoryMiB('VmRSS');
    const res = await request(`${url}/results`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
    });
    assertErrorShape(res, want.status, want.code);
    const grew = memoryMiB('VmHWM') - rss;
    const spent = cpuSeconds() - cpu;
    assert.ok(grew < 200, `peak RSS grew by ${grew.toFixed(0)} MiB`);
    assert.ok(spent < 10, `the request cost ${spent.toFixed(1)} s of CPU`);
    assert.equal(proc.child.exitCode, null, proc.output());
    const ok = await postJson(`${url}/results`, pingResult('20.45.0.1'));
    assert.equal(ok.status, 200, `${ok.text}\n${proc.output()}`);
    return `${(body.length / MiB).toFixed(1)} MiB of gzip: peak RSS +${grew.toFixed(0)} MiB, ${spent.toFixed(2)} s of CPU`;
  }

  it('2 MB of gzip that is one 2 GiB line: a 400 (the line skipped, then the rest left unread), bounded memory and CPU, the process lives', async (t) => {
    const line = Buffer.alloc(64 * MiB, 'a');
    const body = bomb(line, 32);
    assert.ok(body.length < 4 * MiB);
    t.diagnostic(await assertBounded(body, { status: 400, code: 'too_many_invalid' }));
  });

  it('0.5 MB of gzip that is 512 MiB of bad lines, or of blank lines: a 400, bounded memory and CPU', async (t) => {
    const bad = `${'{"format":"hopmap-result/1","type":"ping","worker":"evil"}\n'.repeat((64 * MiB) / 60)}`;
    t.diagnostic(`bad lines: ${await assertBounded(bomb(bad, 8), { status: 400, code: 'too_many_invalid' })}`);
    t.diagnostic(
      `blank lines: ${await assertBounded(bomb(Buffer.alloc(64 * MiB, '\n'), 8), { status: 400, code: 'too_many_invalid' })}`,
    );
  });

  it('a client that goes away mid-body stops the work on it', async () => {
    // Valid (duplicate) results, 1 MiB decoded every 50 ms: work the service must do for as long as the client sends.
    const line = `${JSON.stringify(pingResult('20.46.0.1'))}\n`;
    const member = gzipSync(line.repeat(Math.floor(MiB / line.length)), { level: 9 });
    const req = http.request(`${url}/results`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
    });
    req.on('error', () => {});
    req.on('response', (res) => res.resume());
    const cpu = cpuSeconds();
    for (let i = 0; i < 400 && cpuSeconds() - cpu < 1; i++) {
      req.write(member);
      await sleep(50);
    }
    assert.ok(cpuSeconds() - cpu >= 1, 'the service was busy with the body');
    req.destroy();
    await sleep(2_000);
    const settled = cpuSeconds();
    await sleep(3_000);
    const after = cpuSeconds() - settled;
    assert.ok(after < 0.5, `the service kept working after the client left: ${after.toFixed(2)} s of CPU in 3 s`);
    assert.equal(proc.child.exitCode, null, proc.output());
    assert.equal((await postJson(`${url}/results`, pingResult('20.46.0.2'))).status, 200);
  });
});
