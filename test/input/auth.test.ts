import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { inputService } from '../../src/input/input-service.js';
import { createKey, revokeKey, type Role } from '../../src/keys/key-store.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { capturedLogger } from '../manager/captured-log.js';
import { request, type HttpResponse } from '../support/http-client.js';
import { writeTargetDir } from '../support/input-fixture.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

interface Gated {
  method: string;
  path: string;
  body?: unknown;
  roles: Role[];
  ok: number[];
}

/** Every non-monitoring route of the input, with the role it needs (admin is admitted everywhere). */
const GATED: Gated[] = [
  { method: 'GET', path: '/', roles: ['worker'], ok: [200, 204] },
  { method: 'GET', path: '/targets?n=2', roles: ['worker'], ok: [200] },
  { method: 'POST', path: '/hops', body: ['31.0.0.1'], roles: ['feeder'], ok: [200] },
  { method: 'GET', path: '/status', roles: [], ok: [200] },
  { method: 'GET', path: '/export', roles: [], ok: [200] },
  { method: 'POST', path: '/import', body: {}, roles: [], ok: [400] },
  { method: 'GET', path: '/exclusions', roles: [], ok: [200] },
  { method: 'POST', path: '/exclusions', body: { cidr: '192.0.2.0/24' }, roles: [], ok: [201] },
  { method: 'DELETE', path: '/exclusions?cidr=192.0.2.0/24', roles: [], ok: [204] },
];

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

function call(base: string, g: Gated, headers: Record<string, string> = {}): Promise<HttpResponse> {
  const body = g.body === undefined ? undefined : JSON.stringify(g.body);
  return request(`${base}${g.path}`, {
    method: g.method,
    body,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
  });
}

function assertRefused(res: HttpResponse, status: 401 | 403, what: string): void {
  assert.equal(res.status, status, `${what}: ${res.text}`);
  const body = res.json();
  assert.equal(typeof body.error?.code, 'string', what);
  assert.equal(typeof body.error?.message, 'string', what);
  if (status === 401) assert.match(String(res.headers['www-authenticate']), /^Bearer realm="hopmap"/, what);
  else assert.equal(body.error.code, 'forbidden_role', what);
}

describe('input: keys and roles at the door', { skip }, () => {
  let db: TestDatabase;
  let dir: string;
  let input: RunningService;
  let client: pg.Client;
  const captured = capturedLogger();
  const keys = {} as Record<'worker' | 'worker2' | 'feeder' | 'admin' | 'revoked', string>;

  before(async () => {
    db = await createTestDatabase('input_auth');
    dir = writeTargetDir({ 'blocks.txt': '20.0.0.0/24\n20.0.1.0/24\n20.0.2.0/24\n20.0.3.0/24\n' });
    client = new pg.Client(db.url);
    await client.connect();
    input = await startService(
      inputService({
        ipv6: false,
        allow: [],
        leaseTtlMs: 300_000,
        passCooldownMs: 3_600_000,
        maxBatch: 1000,
        targets: dir,
      }),
      {
        databaseUrl: db.url,
        host: '127.0.0.1',
        port: 0,
        log: captured.log,
      },
    );
    const pool = input.pool;
    keys.worker = (await createKey(pool, { name: 'pi-helsinki', role: 'worker' })).key;
    keys.worker2 = (await createKey(pool, { name: 'vm-frankfurt', role: 'worker' })).key;
    keys.feeder = (await createKey(pool, { name: 'output-1', role: 'feeder' })).key;
    keys.admin = (await createKey(pool, { name: 'operator', role: 'admin' })).key;
    const revoked = await createKey(pool, { name: 'stolen', role: 'admin' });
    keys.revoked = revoked.key;
    await revokeKey(pool, revoked.record.id);
  });

  after(async () => {
    await client?.end();
    await input?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('refuses every non-monitoring route without a key (401), with a malformed or unknown key (401) and with a revoked one (401)', async () => {
    for (const g of GATED) {
      assertRefused(await call(input.url, g), 401, `${g.method} ${g.path} anonymous`);
      assertRefused(
        await call(input.url, g, { authorization: 'Bearer letmein' }),
        401,
        `${g.method} ${g.path} malformed`,
      );
      assertRefused(await call(input.url, g, bearer(`hm_${'A'.repeat(43)}`)), 401, `${g.method} ${g.path} unknown`);
      const revoked = await call(input.url, g, bearer(keys.revoked));
      assertRefused(revoked, 401, `${g.method} ${g.path} revoked`);
      assert.equal(revoked.json().error.code, 'api_key_revoked');
    }
    const reasons = new Set(captured.authFailures().map((f) => f.reason));
    assert.deepEqual([...reasons].sort(), ['malformed_key', 'missing_key', 'revoked_key', 'unknown_key']);
    assert.ok(captured.authFailures().every((f) => f.ip === '127.0.0.1' && /^key:(-|hm_\S{8})$/.test(f.user)));
  });

  it('answers 403 to a key whose role does not allow the route, and serves the right role and admin', async () => {
    for (const g of GATED) {
      for (const role of ['worker', 'feeder'] as const) {
        const res = await call(input.url, g, bearer(keys[role]));
        if (g.roles.includes(role))
          assert.ok(g.ok.includes(res.status), `${g.method} ${g.path} as ${role}: ${res.status} ${res.text}`);
        else assertRefused(res, 403, `${g.method} ${g.path} as ${role}`);
      }
      const res = await call(input.url, g, bearer(keys.admin));
      assert.ok(g.ok.includes(res.status), `${g.method} ${g.path} as admin: ${res.status} ${res.text}`);
    }
    assert.ok(captured.authFailures().some((f) => f.reason === 'wrong_role'));
  });

  it('keeps /health, /ready, /metrics and /service-info open', async () => {
    for (const path of ['/health', '/ready', '/metrics', '/service-info']) {
      const res = await request(`${input.url}${path}`);
      assert.equal(res.status, 200, `${path}: ${res.text}`);
    }
  });

  it('a worker key cannot exclude, un-exclude, import or read the state: nothing changes in the database', async () => {
    const admin = await request(`${input.url}/exclusions`, {
      method: 'POST',
      body: JSON.stringify({ cidr: '198.51.100.0/24', reason: 'abuse desk' }),
      headers: { 'content-type': 'application/json', ...bearer(keys.admin) },
    });
    assert.equal(admin.status, 201, admin.text);
    const exported = (await request(`${input.url}/export`, { headers: bearer(keys.admin) })).text;
    const before = await snapshot(client);

    const attempts = [
      { method: 'POST', path: '/exclusions', body: { cidr: '0.0.0.0/0' } },
      { method: 'DELETE', path: '/exclusions?cidr=198.51.100.0/24' },
      { method: 'POST', path: '/import', body: JSON.parse(exported) },
    ];
    for (const a of attempts) {
      for (const key of [keys.worker, keys.feeder])
        assertRefused(await call(input.url, { ...a, roles: [], ok: [] }, bearer(key)), 403, `${a.method} ${a.path}`);
    }
    assert.deepEqual(await snapshot(client), before);
    const served = await request(`${input.url}/targets?n=5`, { headers: bearer(keys.worker) });
    assert.equal(served.json().targets.length, 5, 'a worker still gets targets: nothing was excluded');
  });

  it('a worker key leases only as its own consumer: the same X-Consumer-Id from two keys is two consumers with different batches', async () => {
    const lease = async (key: string, consumer?: string) => {
      const res = await request(`${input.url}/targets?n=3`, {
        headers: { ...bearer(key), ...(consumer ? { 'x-consumer-id': consumer } : {}) },
      });
      assert.equal(res.status, 200, res.text);
      return res.json<{ lease: string; targets: string[] }>();
    };
    const a = await lease(keys.worker, 'probe-1');
    const b = await lease(keys.worker2, 'probe-1');
    const { rows } = await client.query<{ id: string; consumer_id: string }>(
      'select id::text, consumer_id from leases where id = any($1::uuid[]) order by consumer_id',
      [[a.lease, b.lease]],
    );
    assert.deepEqual(
      rows.map((r) => r.consumer_id),
      ['pi-helsinki/probe-1', 'vm-frankfurt/probe-1'],
    );
    assert.notEqual(rows[0]!.id, rows[1]!.id);

    await lease(keys.worker);
    await lease(keys.worker, 'pi-helsinki');
    await lease(keys.admin, 'probe-1');
    const consumers = (await client.query<{ id: string }>('select id from consumers order by id')).rows.map(
      (r) => r.id,
    );
    for (const id of ['pi-helsinki', 'pi-helsinki/probe-1', 'vm-frankfurt/probe-1', 'probe-1'])
      assert.ok(consumers.includes(id), `${id} in ${consumers.join(', ')}`);
    assert.ok(!consumers.includes('vm-frankfurt/pi-helsinki'));

    const forged = await request(`${input.url}/targets?n=3`, {
      headers: { ...bearer(keys.worker), 'x-consumer-id': 'vm-frankfurt/probe-1' },
    });
    assert.equal(forged.status, 400, "another key's namespaced id cannot be sent");
    assert.equal(forged.json().error.code, 'invalid_consumer');
    const viaQuery = await request(`${input.url}/targets?n=1&consumer=probe-2`, { headers: bearer(keys.worker2) });
    const { rows: q } = await client.query('select consumer_id from leases where id = $1', [viaQuery.json().lease]);
    assert.equal(q[0].consumer_id, 'vm-frankfurt/probe-2');
  });
});

describe('input: --auth off', { skip }, () => {
  let db: TestDatabase;
  let input: RunningService;
  const captured = capturedLogger();

  before(async () => {
    db = await createTestDatabase('input_auth_off');
    input = await startService(
      inputService({
        ipv6: false,
        allow: [],
        leaseTtlMs: 300_000,
        passCooldownMs: 3_600_000,
        maxBatch: 1000,
        auth: 'off',
      }),
      { databaseUrl: db.url, host: '127.0.0.1', port: 0, log: captured.log },
    );
  });

  after(async () => {
    await input?.stop();
    await db?.drop();
    await assertNoLeaks();
  });

  it('admits anonymous requests everywhere and says so in the log at start', async () => {
    for (const g of GATED) {
      const res = await call(input.url, g);
      assert.ok(g.ok.includes(res.status), `${g.method} ${g.path}: ${res.status} ${res.text}`);
    }
    assert.ok(
      captured.lines.some(
        (l) => JSON.parse(l).level === 40 && /auth is off: anyone who reaches this service can/.test(JSON.parse(l).msg),
      ),
      captured.lines.join('\n'),
    );
  });
});

async function snapshot(client: pg.Client) {
  const exclusions = await client.query('select cidr::text, reason from target_exclusions order by cidr');
  const consumers = await client.query('select id, pass, served_total from consumers order by id');
  const leases = await client.query('select count(*)::int as n from leases');
  return { exclusions: exclusions.rows, consumers: consumers.rows, leases: leases.rows };
}
