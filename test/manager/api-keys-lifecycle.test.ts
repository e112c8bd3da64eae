import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Express } from 'express';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { createServiceApp } from '../../src/http/create-service-app.js';
import { listen, type Listening } from '../../src/http/listen.js';
import { makeIdentity } from '../../src/http/service-identity.js';
import { ServiceMetrics } from '../../src/http/service-metrics.js';
import { createKey } from '../../src/keys/key-store.js';
import { requireRole } from '../../src/keys/require-role.js';
import { apiKeysApiRouter, apiKeysPageRouter } from '../../src/manager/api-keys/index.js';
import { postJson, request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

async function startManager(routes: (app: Express) => void): Promise<Listening> {
  const { app } = createServiceApp({
    identity: makeIdentity('manager', [], 'manager-test'),
    log: quietLog,
    metrics: new ServiceMetrics('manager'),
    routes(app) {
      app.use((_req, res, next) => {
        res.locals.user = { name: 'alice' };
        res.locals.csrfToken = 'csrf-token-1';
        next();
      });
      routes(app);
    },
  });
  return listen(app, { port: 0, host: '127.0.0.1' });
}

const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

describe('API keys', { skip }, () => {
  let db: TestDatabase;
  let pool: Pool;
  let manager: Listening;

  before(async () => {
    db = await createTestDatabase('api_keys');
    pool = createPool(db.url, quietLog, { max: 4 });
    manager = await startManager((app) => {
      app.use(apiKeysApiRouter({ pool }));
      app.use(apiKeysPageRouter({ pool }));
      app.get(
        '/worker-only',
        requireRole(pool, ['worker'], { log: quietLog }),
        (req, res) => void res.json({ key: req.apiKey }),
      );
      // The same check as another manager instance would run it: its own memory of recent writes.
      app.get(
        '/other-instance',
        requireRole(pool, ['worker'], { log: quietLog }),
        (req, res) => void res.json({ key: req.apiKey }),
      );
      app.get(
        '/third-instance',
        requireRole(pool, ['worker'], { log: quietLog }),
        (req, res) => void res.json({ key: req.apiKey }),
      );
    });
  });

  after(async () => {
    await manager?.close(1_000);
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  it('creates a key shown once, lists it without the key, and keeps only its hash in the database', async () => {
    const res = await postJson(`${manager.url}/api/keys`, { name: 'pi-helsinki' });
    assert.equal(res.status, 201, res.text);
    const { key, id, prefix, role, created_by } = res.json();
    assert.match(key, /^hm_[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(key.slice(3), 'base64url').length, 32);
    assert.equal(prefix, key.slice(0, 11));
    assert.equal(role, 'worker', 'worker is the default role');
    assert.equal(created_by, 'alice');
    assert.equal(res.headers['cache-control'], 'no-store');

    const list = await request(`${manager.url}/api/keys`);
    assert.equal(list.json().keys.length, 1);
    assert.equal(list.json().keys[0].id, id);
    assert.ok(!list.text.includes(key.slice(11)), 'the list never holds the key');

    // Every column of every row, as text: the key is nowhere, nor its secret part.
    const { rows } = await pool.query('select t::text as row from manager.api_keys t');
    for (const { row } of rows) {
      assert.ok(!row.includes(key.slice(3)), `the key is in the database: ${row}`);
      assert.ok(!row.includes(key.slice(11)), 'not even its secret part');
    }
    const dump = await pool.query(`select string_agg(t::text, '|') as all from manager.api_keys t`);
    assert.match(dump.rows[0].all, /[0-9a-f]{64}/, 'a SHA-256 hex hash is stored instead');

    const ok = await request(`${manager.url}/worker-only`, bearer(key));
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json().key, { id, name: 'pi-helsinki', prefix, role: 'worker' });
  });

  it('refuses a missing, malformed or unknown key with 401, and a key of another role with 403', async () => {
    const { key: feeder } = await createKey(pool, { name: 'output-1', role: 'feeder' });
    const valid = (await createKey(pool, { name: 'w', role: 'worker' })).key;
    const forged = `${valid.slice(0, 11)}${valid.slice(11, 13) === 'AA' ? 'BB' : 'AA'}${valid.slice(13)}`;
    const cases: Array<[string, Record<string, string>, number, string]> = [
      ['no header', {}, 401, 'api_key_required'],
      ['basic auth', { authorization: 'Basic dXNlcjpwYXNz' }, 401, 'invalid_api_key'],
      ['not a key', { authorization: 'Bearer hello' }, 401, 'invalid_api_key'],
      ['unknown key', { authorization: `Bearer hm_${'A'.repeat(43)}` }, 401, 'invalid_api_key'],
      ['right prefix, wrong secret', { authorization: `Bearer ${forged}` }, 401, 'invalid_api_key'],
      ['another role', { authorization: `Bearer ${feeder}` }, 403, 'forbidden_role'],
    ];
    for (const [label, headers, status, code] of cases) {
      const res = await request(`${manager.url}/worker-only`, { headers });
      assert.equal(res.status, status, `${label}: ${res.text}`);
      assert.equal(res.json().error.code, code, label);
      if (status === 401) assert.match(String(res.headers['www-authenticate']), /^Bearer realm="hopmap"/, label);
    }
  });

  it('creates a key of the chosen role, and refuses an unknown role or a name outside the consumer id alphabet', async () => {
    const admin = await postJson(`${manager.url}/api/keys`, { name: 'operator', role: 'admin' });
    assert.equal(admin.status, 201, admin.text);
    assert.equal(admin.json().role, 'admin');
    assert.equal(
      (await request(`${manager.url}/worker-only`, bearer(admin.json().key))).status,
      200,
      'admin is admitted everywhere',
    );
    const feeder = await postJson(`${manager.url}/api/keys`, { name: 'output-api', role: 'feeder' });
    assert.equal(feeder.json().role, 'feeder');
    assert.equal((await request(`${manager.url}/worker-only`, bearer(feeder.json().key))).status, 403);
    for (const body of [
      { name: 'x', role: 'root' },
      { name: 'pi helsinki' },
      { name: 'a/b' },
      { name: 'x'.repeat(65) },
    ]) {
      const res = await postJson(`${manager.url}/api/keys`, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.json().error.code, 'validation_failed');
    }
    const listed = (await request(`${manager.url}/api/keys`)).json().keys as Array<{ name: string; role: string }>;
    assert.deepEqual(
      listed
        .filter((k) => ['operator', 'output-api'].includes(k.name))
        .map((k) => k.role)
        .sort(),
      ['admin', 'feeder'],
    );
  });

  it('refuses a revoked key at once, and revoking again changes nothing', async () => {
    const created = (await postJson(`${manager.url}/api/keys`, { name: 'to-revoke' })).json();
    assert.equal((await request(`${manager.url}/worker-only`, bearer(created.key))).status, 200);
    const revoked = await request(`${manager.url}/api/keys/${created.id}`, { method: 'DELETE' });
    assert.equal(revoked.status, 200);
    const at = revoked.json().revoked.revoked_at;
    assert.ok(at);
    const refused = await request(`${manager.url}/worker-only`, bearer(created.key));
    assert.equal(refused.status, 401);
    assert.equal(refused.json().error.code, 'api_key_revoked');
    assert.equal(
      (await request(`${manager.url}/api/keys/${created.id}`, { method: 'DELETE' })).json().revoked.revoked_at,
      at,
    );
    assert.equal((await request(`${manager.url}/api/keys/not-a-uuid`, { method: 'DELETE' })).status, 400);
    assert.equal(
      (await request(`${manager.url}/api/keys/00000000-0000-4000-8000-000000000000`, { method: 'DELETE' })).status,
      404,
    );
  });

  it('records use at most once a minute per key', async () => {
    const { key, record } = await createKey(pool, { name: 'busy', role: 'worker' });
    const lastUsed = async () =>
      (await pool.query('select last_used_at from manager.api_keys where id = $1', [record.id])).rows[0]
        .last_used_at as Date | null;
    assert.equal(await lastUsed(), null);
    assert.equal((await request(`${manager.url}/worker-only`, bearer(key))).status, 200);
    let first: Date | null = null;
    for (let i = 0; i < 50 && !first; i++) {
      first = await lastUsed();
      if (!first) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(first, 'the first use is recorded');
    for (let i = 0; i < 5; i++) assert.equal((await request(`${manager.url}/worker-only`, bearer(key))).status, 200);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await lastUsed())!.getTime(), first.getTime(), 'not rewritten by every request');

    // Another instance's first use within the minute of the last write is not written either (the SQL guard).
    await pool.query(`update manager.api_keys set last_used_at = now() - interval '30 seconds' where id = $1`, [
      record.id,
    ]);
    const pinned = await lastUsed();
    assert.equal((await request(`${manager.url}/other-instance`, bearer(key))).status, 200);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await lastUsed())!.getTime(), pinned!.getTime());
    // ...but after a minute it is, from whichever instance sees the key first.
    await pool.query(`update manager.api_keys set last_used_at = now() - interval '61 seconds' where id = $1`, [
      record.id,
    ]);
    const old = await lastUsed();
    assert.equal((await request(`${manager.url}/third-instance`, bearer(key))).status, 200);
    let now = old;
    for (let i = 0; i < 50 && now!.getTime() === old!.getTime(); i++) {
      await new Promise((r) => setTimeout(r, 20));
      now = await lastUsed();
    }
    assert.ok(now! > old!, 'written again once the minute is over');
  });

  it('serves the API keys page: create with a role shows the key once with where it goes, revoke is a CSRF-carrying form', async () => {
    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      body: new URLSearchParams({ ...fields, _csrf: 'csrf-token-1' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'manager.example.net' },
    });
    const created = await request(`${manager.url}/api-keys`, form({ name: 'pi-kitchen' }));
    assert.equal(created.status, 201);
    assert.equal(created.headers['cache-control'], 'no-store');
    const key = /<pre><code>(hm_[A-Za-z0-9_-]{43})<\/code><\/pre>/.exec(created.text)?.[1];
    assert.ok(key, 'the new key is on the page');
    assert.match(
      created.text,
      new RegExp(
        `input_file: http://manager.example.net/gateway\\noutput_file: http://manager.example.net/gateway\\napi_key: ${key}`,
      ),
    );
    assert.match(created.text, /New key for pi-kitchen/);
    assert.match(
      created.text,
      /<select name="role"><option value="worker" selected>worker<\/option><option value="feeder">feeder<\/option><option value="admin">admin<\/option><\/select>/,
    );
    assert.match(
      created.text,
      /opens this manager's <code>\/gateway<\/code> and the input and output services directly/,
    );
    assert.equal((await request(`${manager.url}/worker-only`, bearer(key))).status, 200);

    const feeder = await request(`${manager.url}/api-keys`, form({ name: 'output-2', role: 'feeder' }));
    assert.equal(feeder.status, 201);
    const feederKey = /<pre><code>(hm_[A-Za-z0-9_-]{43})<\/code><\/pre>/.exec(feeder.text)![1]!;
    assert.match(feeder.text, new RegExp(`--input-key ${feederKey}`));
    assert.equal(
      (await request(`${manager.url}/worker-only`, bearer(feederKey))).status,
      403,
      'the page made a feeder key',
    );
    const bad = await request(`${manager.url}/api-keys`, form({ name: 'pi <kitchen>' }));
    assert.equal(bad.status, 400);
    assert.match(bad.text, /use 1-64 letters, digits or \. _ : @ -/);
    assert.ok(!bad.text.includes('<kitchen>'));

    // A key named before names were restricted is still shown, escaped.
    const old = await createKey(pool, { name: 'placeholder', role: 'worker' });
    await pool.query(`update manager.api_keys set name = 'pi <kitchen>' where id = $1`, [old.record.id]);
    const page = await request(`${manager.url}/api-keys`);
    assert.ok(!page.text.includes(key.slice(11)), 'shown once: not on the next visit');
    assert.match(
      page.text,
      /<tr id="key-[0-9a-f-]{36}"><td>pi &lt;kitchen&gt;<\/td><td><code>hm_[^<]*<\/code><\/td><td>worker<\/td>/,
    );
    assert.match(page.text, /<td>output-2<\/td><td><code>hm_[^<]*<\/code><\/td><td>feeder<\/td>/);
    const forms = page.text.match(/<form method="post"[\s\S]*?<\/form>/g) ?? [];
    assert.ok(forms.length >= 2);
    for (const f of forms) assert.match(f, /<input type="hidden" name="_csrf" value="csrf-token-1">/);
    const id = /<tr id="key-([0-9a-f-]{36})"><td>pi-kitchen/.exec(page.text)?.[1];
    assert.ok(id);
    const revoked = await request(`${manager.url}/api-keys/${id}/revoke`, {
      method: 'POST',
      body: '_csrf=csrf-token-1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(revoked.status, 303);
    assert.equal((await request(`${manager.url}/worker-only`, bearer(key))).status, 401);
    const after = await request(`${manager.url}${revoked.headers.location}`);
    assert.match(after.text, /Key revoked/);
    assert.match(after.text, new RegExp(`<tr id="key-${id}">[\\s\\S]*?revoked \\d{4}-`));
  });
});
