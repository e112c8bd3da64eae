import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import type { ManagerPlugin } from '../../src/manager/manager-plugin.js';
import { managerService } from '../../src/manager/manager-service.js';
import { html } from '../../src/web/html.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { capturedLogger } from './captured-log.js';
import { Browser, codeFor, logIn } from './manager-browser.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

/** Stands in for the API keys feature: one valid key, 'good'. */
const keyPlugin: ManagerPlugin = {
  apiAuth: (req, _res, next) => {
    if (req.headers.authorization === 'Bearer good') (req as { apiKey?: { id: string } }).apiKey = { id: 'k1' };
    next();
  },
  dashboardSections: [() => Promise.resolve(html`<section><h2>Plugged in</h2></section>`)],
};

// Two instances on one database, and requests alternating between them as a load balancer without affinity would.
describe('manager: two instances, one database', { skip }, () => {
  const serverKey = randomBytes(32);
  const captured = capturedLogger();
  let db: TestDatabase;
  let pool: Pool;
  let a: RunningService;
  let b: RunningService;

  before(async () => {
    db = await createTestDatabase('manager_two');
    pool = createPool(db.url, quietLog, { max: 2 });
    a = await startService(managerService({ serverKey, plugins: [() => keyPlugin] }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: captured.log,
    });
    b = await startService(managerService({ serverKey, plugins: [() => keyPlugin] }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: captured.log,
    });
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  const failuresFrom = (ip: string) => captured.authFailures().filter((f) => f.ip === ip);

  it('logs in across instances: a session made on A is valid on B, and the session id changes at login', async () => {
    const alice = await addUser(pool, serverKey, 'alice');
    const br = new Browser('198.51.100.1');
    // A session id planted before login (fixation) is replaced; the login page itself stores no session.
    await br.get(`${a.url}/login`);
    assert.equal(br.cookie, undefined, 'no session for an anonymous visitor');
    const before = 'hopmap.sid=planted';
    br.cookies.set('hopmap.sid', before);
    const done = await logIn(br, a.url, b.url, 'alice', await codeFor(alice.secret));
    assert.equal(done.status, 303, done.text);
    assert.equal(done.headers.location, '/');
    assert.ok(br.cookie, 'a session at login');
    assert.notEqual(br.cookie, before, 'a new session id at login');

    for (const url of [a.url, b.url]) {
      const page = await br.get(`${url}/`);
      assert.equal(page.status, 200, page.text);
      assert.match(page.text, /Signed in as <strong>alice<\/strong>/);
      assert.match(page.text, /<form method="post" action="\/logout"/);
      assert.match(page.text, /<h2>Plugged in<\/h2>/, "a plugin's dashboard section");
      const me = await br.get(`${url}/api/me`);
      assert.equal(me.json().user, 'alice');
    }
    assert.deepEqual(failuresFrom(br.ip), []);
  });

  it('logout on one instance ends the session on both', async () => {
    const bob = await addUser(pool, serverKey, 'bob');
    const br = new Browser('198.51.100.2');
    assert.equal((await logIn(br, b.url, a.url, 'bob', await codeFor(bob.secret))).status, 303);
    const stolen = br.cookie!;
    await br.get(`${a.url}/`);
    const out = await br.submit(`${b.url}/logout`);
    assert.equal(out.status, 303);
    assert.equal(out.headers.location, '/login');

    // Even a copy of the cookie kept from before is worth nothing now, on either instance.
    for (const url of [a.url, b.url]) {
      const page = await request(`${url}/`, { headers: { cookie: stolen } });
      assert.equal(page.status, 303);
      assert.equal(page.headers.location, '/login');
      const me = await request(`${url}/api/me`, { headers: { cookie: stolen } });
      assert.equal(me.status, 401);
      assert.equal(me.json().error.code, 'unauthenticated');
    }
  });

  it('answers step 1 alike for a known and an unknown name, and refuses the unknown one at step 2', async () => {
    await addUser(pool, serverKey, 'carol');
    const known = new Browser('198.51.100.3');
    const unknown = new Browser('198.51.100.3');
    await known.get(`${a.url}/login`);
    await unknown.get(`${a.url}/login`);
    const k = await known.submit(`${a.url}/login`, { name: 'carol' });
    const u = await unknown.submit(`${a.url}/login`, { name: 'nobody' });
    assert.deepEqual([k.status, k.headers.location, k.text], [u.status, u.headers.location, u.text]);
    const kPage = (await known.get(`${a.url}/login/totp`)).text.replace(/carol/g, 'NAME').replace(/value="[^"]+"/, '');
    const uPage = (await unknown.get(`${a.url}/login/totp`)).text
      .replace(/nobody/g, 'NAME')
      .replace(/value="[^"]+"/, '');
    assert.equal(kPage, uPage);

    const res = await unknown.submit(`${b.url}/login/totp`, { code: '123456' });
    assert.equal(res.status, 401);
    assert.match(res.text, /Wrong or already used code/);
    assert.deepEqual(
      failuresFrom('198.51.100.3').map((f) => f.msg),
      ['AUTH_FAILURE ip=198.51.100.3 user=nobody reason=unknown_user'],
    );
  });

  it('refuses a wrong code, and a used code even on the other instance', async () => {
    const dave = await addUser(pool, serverKey, 'dave');
    const br = new Browser('198.51.100.4');
    const code = await codeFor(dave.secret);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const bad = await logIn(br, a.url, a.url, 'dave', wrong);
    assert.equal(bad.status, 401);
    assert.equal((await br.get(`${a.url}/api/me`)).status, 401, 'a wrong code signs nobody in');

    assert.equal((await br.submit(`${a.url}/login/totp`, { code })).status, 303);
    const again = new Browser('198.51.100.4');
    const replay = await logIn(again, b.url, b.url, 'dave', code);
    assert.equal(replay.status, 401);
    assert.equal((await again.get(`${b.url}/api/me`)).status, 401);
    assert.deepEqual(
      failuresFrom('198.51.100.4').map((f) => f.reason),
      ['bad_code', 'replayed_code'],
    );
  });

  it('accepts one code once when it reaches both instances at the same moment', async () => {
    const erin = await addUser(pool, serverKey, 'erin');
    const one = new Browser('198.51.100.5');
    const two = new Browser('198.51.100.5');
    for (const [br, url] of [
      [one, a.url],
      [two, b.url],
    ] as const) {
      await br.get(`${url}/login`);
      await br.submit(`${url}/login`, { name: 'erin' });
      await br.get(`${url}/login/totp`);
    }
    const code = await codeFor(erin.secret);
    const answers = await Promise.all([
      one.submit(`${a.url}/login/totp`, { code }),
      two.submit(`${b.url}/login/totp`, { code }),
    ]);
    assert.deepEqual(answers.map((r) => r.status).sort(), [303, 401]);
    assert.deepEqual(
      failuresFrom('198.51.100.5').map((f) => f.reason),
      ['replayed_code'],
    );
  });

  it('counts login attempts per address across instances: 6 on A and 5 on B, and the 11th is 429', async () => {
    const br = new Browser('198.51.100.6');
    await br.get(`${a.url}/login`);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await br.submit(`${a.url}/login`, { name: 'mallory' })).status);
    for (let i = 0; i < 4; i++) statuses.push((await br.submit(`${b.url}/login`, { name: 'mallory' })).status);
    assert.deepEqual(statuses, new Array(10).fill(303));
    const eleventh = await br.submit(`${b.url}/login/totp`, { code: '000000' });
    assert.equal(eleventh.status, 429);
    assert.deepEqual(eleventh.json(), { error: { code: 'rate_limited', message: eleventh.json().error.message } });
    assert.match(eleventh.json().error.message, /too many requests; retry in \d+ s/);
    const retryAfter = Number(eleventh.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal((await br.submit(`${a.url}/login`, { name: 'mallory' })).status, 429, 'A sees the same count');
    assert.deepEqual(
      failuresFrom('198.51.100.6').map((f) => f.msg),
      [
        'AUTH_FAILURE ip=198.51.100.6 user=mallory reason=rate_limited',
        'AUTH_FAILURE ip=198.51.100.6 user=mallory reason=rate_limited',
      ],
    );
    // Another address is not affected.
    const other = new Browser('198.51.100.66');
    await other.get(`${b.url}/login`);
    assert.equal((await other.submit(`${b.url}/login`, { name: 'mallory' })).status, 303);
  });

  it('counts /api requests per address across instances, 100 a minute', async () => {
    const headers = { 'x-forwarded-for': '198.51.100.7' };
    const statuses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        request(`${i % 2 ? a.url : b.url}/api/me`, { headers }).then((r) => r.status),
      ),
    );
    assert.deepEqual([...new Set(statuses)], [401]);
    const over = await request(`${a.url}/api/me`, { headers });
    assert.equal(over.status, 429);
    assert.equal(over.json().error.code, 'rate_limited');
    assert.ok(Number(over.headers['retry-after']) >= 1);
    // A verified API key has a budget of its own; a made-up one counts against the address.
    const keyed = await request(`${b.url}/api/me`, { headers: { ...headers, authorization: 'Bearer good' } });
    assert.equal(keyed.status, 401);
    const madeUp = await request(`${b.url}/api/me`, { headers: { ...headers, authorization: 'Bearer made-up' } });
    assert.equal(madeUp.status, 429);
  });

  it('refuses a state change without the CSRF token with 403, and keeps the session', async () => {
    const frank = await addUser(pool, serverKey, 'frank');
    const br = new Browser('198.51.100.8');
    assert.equal((await logIn(br, a.url, b.url, 'frank', await codeFor(frank.secret))).status, 303);
    for (const form of [{}, { _csrf: 'x'.repeat(43) }] as Record<string, string>[]) {
      const res = await br.post(`${a.url}/logout`, form);
      assert.equal(res.status, 403);
      assert.equal(res.json().error.code, 'csrf_failed');
      assert.match(res.json().error.message, /CSRF token/);
    }
    assert.equal((await br.get(`${b.url}/api/me`)).json().user, 'frank', 'still signed in');
    // Without the signed CSRF cookie the login form cannot be posted from another site.
    const bare = await new Browser('198.51.100.8').post(`${a.url}/login`, { name: 'frank' });
    assert.equal(bare.status, 403);
    // An API-key request (no session cookie, an Authorization header) is not cookie-based, so CSRF does not apply.
    const keyed = await request(`${a.url}/api/me`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'x-forwarded-for': '198.51.100.8' },
    });
    assert.equal(keyed.status, 404);
  });

  it('sets the session cookie HttpOnly, SameSite=Lax, on / with an idle expiry, and not Secure over plain HTTP', async () => {
    const br = new Browser('198.51.100.9');
    const gina = await addUser(pool, serverKey, 'gina');
    assert.equal((await logIn(br, a.url, b.url, 'gina', await codeFor(gina.secret))).status, 303);
    const flags = br.lastSetCookie!.split(';').map((s) => s.trim());
    assert.ok(flags.includes('HttpOnly'), br.lastSetCookie);
    assert.ok(flags.includes('SameSite=Lax'), br.lastSetCookie);
    assert.ok(flags.includes('Path=/'), br.lastSetCookie);
    assert.ok(!flags.includes('Secure'), br.lastSetCookie);
    const expires = Date.parse(flags.find((f) => f.startsWith('Expires='))!.slice(8));
    assert.ok(
      Math.abs(expires - (Date.now() + 30 * 60_000)) < 60_000,
      `expires ${new Date(expires).toISOString()}: 30 min idle`,
    );
  });

  it('sends pages with a strict CSP and no caching, redirects to /login without a session, and serves the CSS', async () => {
    const login = await request(`${a.url}/login`);
    const csp = String(login.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /style-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|upgrade-insecure-requests/);
    assert.equal(login.headers['cache-control'], 'no-store');
    assert.equal(login.headers['x-content-type-options'], 'nosniff');
    assert.equal(login.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
    assert.doesNotMatch(login.text, /<script|style=/);
    const home = await request(`${b.url}/`);
    assert.equal(home.status, 303);
    assert.equal(home.headers.location, '/login');
    const css = await request(`${a.url}/static/manager.css`);
    assert.equal(css.status, 200);
    assert.match(String(css.headers['content-type']), /text\/css/);
    assert.equal((await request(`${a.url}/service-info`)).json().service_type, 'manager');
  });
});
