import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { inputService } from '../../src/input/input-service.js';
import { createKey, revokeKey, type Role } from '../../src/keys/key-store.js';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { capturedLogger } from '../manager/captured-log.js';
import { pollUntil, postJson, request, type HttpResponse } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { pingResult, traceResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

interface Gated {
  method: string;
  path: string;
  body?: () => unknown;
  roles: Role[];
  ok: number[];
}

/** The query routes, on the main port and on the health port alike. */
const QUERIES: Gated[] = [
  { method: 'GET', path: '/stats', roles: [], ok: [200] },
  { method: 'GET', path: '/recent?limit=5', roles: [], ok: [200] },
  { method: 'GET', path: '/routes/changes', roles: [], ok: [200] },
  { method: 'GET', path: '/routes/path?worker=w1&target=20.0.0.1', roles: [], ok: [200] },
  { method: 'GET', path: '/api/map/changes', roles: [], ok: [200] },
  { method: 'GET', path: '/api/map/path?worker=w1&target=20.0.0.1', roles: [], ok: [200] },
];

/** Every non-monitoring route of the output's main port, with the role it needs (admin is admitted everywhere). */
const GATED: Gated[] = [
  { method: 'POST', path: '/results', body: () => pingResult('20.0.0.1'), roles: ['worker'], ok: [200] },
  { method: 'POST', path: '/rotate', roles: [], ok: [200] },
  // 503 pg_dump_unavailable where the machine's pg_dump is older than the server (an external server beside
  // Debian's 15): past the gate either way, which is what this file checks (dump-merge checks the archive).
  { method: 'GET', path: '/dump', roles: [], ok: [200, 503] },
  ...QUERIES,
];

const MONITORING = ['/health', '/ready', '/metrics', '/service-info'];

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

function call(base: string, g: Gated, headers: Record<string, string> = {}): Promise<HttpResponse> {
  const body = g.body === undefined ? undefined : JSON.stringify(g.body());
  return request(`${base}${g.path}`, {
    method: g.method,
    body,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
  });
}

function assertRefused(res: HttpResponse, status: 401 | 403, what: string): void {
  assert.equal(res.status, status, `${what}: ${res.text.slice(0, 300)}`);
  const body = res.json();
  assert.equal(typeof body.error?.code, 'string', what);
  assert.equal(typeof body.error?.message, 'string', what);
  if (status === 401) assert.match(String(res.headers['www-authenticate']), /^Bearer realm="hopmap"/, what);
  else assert.equal(body.error.code, 'forbidden_role', what);
}

describe('output: keys and roles at the door, on both ports', { skip }, () => {
  let db: TestDatabase;
  let output: RunningService;
  let health: string;
  let client: pg.Client;
  const captured = capturedLogger();
  const keys = {} as Record<'worker' | 'feeder' | 'admin' | 'revoked', string>;

  before(async () => {
    db = await createTestDatabase('output_auth');
    client = new pg.Client(db.url);
    await client.connect();
    output = await startService(outputService({ ...outputWiring, rotation: { keep: 1 } }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      healthPort: 0,
      log: captured.log,
    });
    health = output.healthUrl!;
    for (const role of ['worker', 'feeder', 'admin'] as const)
      keys[role] = (await createKey(output.pool, { name: `${role}-1`, role })).key;
    const revoked = await createKey(output.pool, { name: 'stolen', role: 'admin' });
    keys.revoked = revoked.key;
    await revokeKey(output.pool, revoked.record.id);
  });

  after(async () => {
    await client?.end();
    await output?.stop();
    await db?.drop();
    await assertNoLeaks();
  });

  it('refuses every non-monitoring route without a key, with an unknown key and with a revoked one: 401', async () => {
    for (const [base, routes] of [
      [output.url, GATED],
      [health, QUERIES],
    ] as const) {
      for (const g of routes) {
        const what = `${base === health ? 'health port ' : ''}${g.method} ${g.path}`;
        assertRefused(await call(base, g), 401, `${what} anonymous`);
        assertRefused(await call(base, g, bearer(`hm_${'B'.repeat(43)}`)), 401, `${what} unknown`);
        assertRefused(await call(base, g, bearer(keys.revoked)), 401, `${what} revoked`);
      }
    }
    assert.equal(
      Number((await client.query('select count(*) from measurements.results')).rows[0].count),
      0,
      'no anonymous result was stored',
    );
    assert.ok(captured.authFailures().some((f) => f.reason === 'missing_key'));
  });

  it('answers 403 to a key whose role does not allow the route, and serves the right role and admin', async () => {
    for (const [base, routes] of [
      [output.url, GATED],
      [health, QUERIES],
    ] as const) {
      for (const g of routes) {
        const what = `${base === health ? 'health port ' : ''}${g.method} ${g.path}`;
        for (const role of ['worker', 'feeder'] as const) {
          const res = await call(base, g, bearer(keys[role]));
          if (g.roles.includes(role))
            assert.ok(g.ok.includes(res.status), `${what} as ${role}: ${res.status} ${res.text.slice(0, 300)}`);
          else assertRefused(res, 403, `${what} as ${role}`);
        }
        const res = await call(base, g, bearer(keys.admin));
        assert.ok(g.ok.includes(res.status), `${what} as admin: ${res.status} ${res.text.slice(0, 300)}`);
        if (res.status === 503)
          assert.equal(res.json().error.code, 'pg_dump_unavailable', `${what} as admin: ${res.text}`);
      }
    }
  });

  it('refuses an anonymous body before reading it: 401, not the 400 or 413 the body would earn', async () => {
    const junk = request(`${output.url}/results`, {
      method: 'POST',
      body: '{"not json',
      headers: { 'content-type': 'application/json' },
    });
    assertRefused(await junk, 401, 'anonymous POST /results with a broken body');
    const big = Buffer.alloc(11 * 1024 * 1024, 0x20);
    assertRefused(
      await request(`${output.url}/results`, {
        method: 'POST',
        body: big,
        headers: { 'content-type': 'application/json' },
      }),
      401,
      'anonymous 11 MB body',
    );
    assertRefused(
      await request(`${output.url}/rotate`, {
        method: 'POST',
        body: '[',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.worker}` },
      }),
      403,
      'a worker key with a broken body at /rotate',
    );
  });

  it('keeps /health, /ready, /metrics and /service-info open on both ports', async () => {
    for (const base of [output.url, health]) {
      for (const path of MONITORING) assert.equal((await request(`${base}${path}`)).status, 200, `${base}${path}`);
    }
  });

  it('a worker key cannot dump or rotate: no dump bytes, no partition retired', async () => {
    const partitions = async () =>
      (
        await client.query(
          `select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'measurements.results'::regclass order by 1`,
        )
      ).rows.map((r) => r.relname);
    // A partition far in the past, which rotation with keep: 1 would retire.
    await client.query(`select measurements.ensure_partition('2020-01-01')`);
    const before = await partitions();
    assert.ok(
      before.some((p: string) => p.includes('2020')),
      before.join(', '),
    );

    const dump = await request(`${output.url}/dump`, { headers: bearer(keys.worker) });
    assertRefused(dump, 403, 'GET /dump as worker');
    assert.ok(!dump.body.includes(Buffer.from('PGDMP')));
    assertRefused(
      await request(`${output.url}/rotate`, { method: 'POST', headers: bearer(keys.worker) }),
      403,
      'POST /rotate as worker',
    );
    assert.deepEqual(await partitions(), before);

    const rotated = await request(`${output.url}/rotate`, { method: 'POST', headers: bearer(keys.admin) });
    assert.equal(rotated.status, 200, rotated.text);
    assert.ok(!(await partitions()).some((p: string) => p.includes('2020')), 'the admin key rotates');
  });
});

describe('output: --input-key, and --auth off', { skip }, () => {
  let outputDb: TestDatabase;
  let inputDb: TestDatabase;
  let input: RunningService;
  let keyed: RunningService;
  let keyless: RunningService;
  const captured = capturedLogger();
  const keylessLog = capturedLogger();
  let admin: Record<string, string>;

  before(async () => {
    [outputDb, inputDb] = await Promise.all([
      createTestDatabase('output_auth_off'),
      createTestDatabase('output_auth_in'),
    ]);
    input = await startService(
      inputService({ ipv6: false, allow: [], leaseTtlMs: 60_000, passCooldownMs: 60_000, maxBatch: 100 }),
      { databaseUrl: inputDb.url, host: '127.0.0.1', port: 0, log: quietLog },
    );
    admin = bearer((await createKey(input.pool, { name: 'operator', role: 'admin' })).key);
    const inputKey = (await createKey(input.pool, { name: 'output-feeder', role: 'feeder' })).key;
    const opts = { databaseUrl: outputDb.url, host: '127.0.0.1', port: 0, healthPort: 0 };
    keyed = await startService(outputService({ ...outputWiring, auth: 'off', inputUrl: input.url, inputKey }), {
      ...opts,
      log: captured.log,
    });
    keyless = await startService(outputService({ ...outputWiring, auth: 'off', inputUrl: input.url }), {
      ...opts,
      log: keylessLog.log,
    });
  });

  after(async () => {
    await Promise.all([keyed?.stop(), keyless?.stop(), input?.stop()]);
    await Promise.all([outputDb?.drop(), inputDb?.drop()]);
    await assertNoLeaks();
  });

  it('admits anonymous requests on both ports and warns at start', async () => {
    for (const g of GATED.filter((r) => r.path !== '/dump')) {
      const res = await call(keyed.url, g);
      assert.ok(g.ok.includes(res.status), `${g.method} ${g.path}: ${res.status} ${res.text}`);
    }
    for (const g of QUERIES) assert.equal((await call(keyed.healthUrl!, g)).status, 200, g.path);
    assert.ok(
      captured.lines.some(
        (l) => JSON.parse(l).level === 40 && /auth is off: anyone who reaches this service can/.test(JSON.parse(l).msg),
      ),
    );
  });

  it('sends the feeder key to the input with the hops; without one the refusal is logged with what to do', async () => {
    assert.equal(
      (await postJson(`${keyed.url}/results`, traceResult('20.6.6.6', ['31.6.0.1', '20.6.6.6']))).status,
      200,
    );
    const status = await pollUntil(`${input.url}/status`, (r) => r.json().pool.hops >= 1, 10_000, admin);
    assert.equal(status.json().pool.hops, 1);

    assert.equal(
      (await postJson(`${keyless.url}/results`, traceResult('20.7.7.7', ['31.7.0.1', '20.7.7.7']))).status,
      200,
    );
    const deadline = Date.now() + 10_000;
    while (
      !keylessLog.lines.some((l) => /failed with 401: the input needs a feeder key, pass --input-key/.test(l)) &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(
      keylessLog.lines.some((l) => /failed with 401: the input needs a feeder key, pass --input-key/.test(l)),
      keylessLog.lines.join('\n'),
    );
    assert.equal(
      (await request(`${input.url}/status`, { headers: admin })).json().pool.hops,
      1,
      'the keyless hop was refused',
    );
  });
});
