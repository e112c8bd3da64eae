import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { managerService } from '../../src/manager/manager-service.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { BIN_PATH, PROJECT_ROOT } from '../../src/version.js';
import type { HttpResponse } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode } from '../support/spawn-process.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { capturedLogger } from './captured-log.js';
import { Browser, codeFor, logIn } from './manager-browser.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

/** A code that none of the steps the manager accepts now (one either side) shows. */
async function wrongCode(secret: string): Promise<string> {
  const now = Date.now();
  const valid = new Set(await Promise.all([-30_000, 0, 30_000].map((d) => codeFor(secret, now + d))));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0');
    if (!valid.has(code)) return code;
  }
}

/** The fail2ban filter's failregex, its <ADDR> tag as any address. */
function fail2banRegex(): RegExp {
  const line = /^failregex = (.+)$/m.exec(
    readFileSync(join(PROJECT_ROOT, 'deploy/fail2ban/filter.d/hopmap-manager.conf'), 'utf8'),
  );
  return new RegExp(line![1]!.replace('<ADDR>', '[0-9A-Fa-f:.]+'));
}

function assertRateLimited(res: HttpResponse): void {
  assert.equal(res.status, 429, res.text);
  const body = res.json<{ error: { code: string; message: string } }>();
  assert.deepEqual(Object.keys(body), ['error']);
  assert.equal(body.error.code, 'rate_limited');
  assert.equal(typeof body.error.message, 'string');
  assert.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After');
}

// The manager believes X-Forwarded-For from loopback (its default trusted proxy), as behind nginx on the same
// host: so each Browser's address is what the manager counts by.
describe('manager: a hostile client at the login', { skip }, () => {
  const serverKey = randomBytes(32);
  const captured = capturedLogger();
  let db: TestDatabase;
  let pool: Pool;
  let a: RunningService;
  let b: RunningService;
  let scratch: string;

  before(async () => {
    db = await createTestDatabase('manager_hostile_login');
    pool = createPool(db.url, quietLog, { max: 2 });
    a = await startService(managerService({ serverKey }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: captured.log,
    });
    b = await startService(managerService({ serverKey }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: captured.log,
    });
    scratch = mkdtempSync(join(tmpdir(), 'hopmap-hostile-login-'));
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    await pool?.end();
    await db?.drop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    await assertNoLeaks();
  });

  const sessionRows = async () =>
    Number((await pool.query('select count(*) from manager.manager_sessions')).rows[0].count);

  it('answers most of 60 wrong codes for one user from 60 IPv6 /48s with 429, and another user still logs in', async () => {
    const victim = await addUser(pool, serverKey, 'victim');
    const other = await addUser(pool, serverKey, 'other');
    const wrong = await wrongCode(victim.secret);
    const answers: HttpResponse[] = [];
    for (let i = 0; i < 60; i++) {
      const url = i % 2 ? a.url : b.url;
      answers.push(await logIn(new Browser(`2001:db8:${(0x100 + i).toString(16)}::1`), url, url, 'victim', wrong));
    }
    const limited = answers.filter((r) => r.status === 429);
    assert.ok(limited.length >= 45, `${limited.length} of 60 answered 429: ${answers.map((r) => r.status).join(' ')}`);
    for (const res of limited) assertRateLimited(res);
    for (const res of answers.filter((r) => r.status !== 429)) {
      assert.equal(res.status, 401);
      assert.match(res.text, /Wrong or already used code/);
    }
    const reasons = captured
      .authFailures()
      .filter((f) => f.user === 'victim')
      .map((f) => f.reason);
    assert.equal(reasons.filter((r) => r === 'user_rate_limited').length, limited.length);
    const line = captured.lines.find((l) => l.includes('reason=user_rate_limited'))!;
    assert.match(JSON.parse(line).msg, /^AUTH_FAILURE ip=2001:db8:[0-9a-f]+::1 user=victim reason=user_rate_limited$/);
    assert.match(line, fail2banRegex(), "fail2ban's filter counts it");

    // Another user, from another address, is not held back by the victim's limit.
    assert.equal(
      (await logIn(new Browser('198.51.100.20'), a.url, b.url, 'other', await codeFor(other.secret))).status,
      303,
    );
    // The limit holds the victim's second factor until the window passes: even the right code waits.
    assertRateLimited(await logIn(new Browser('198.51.100.21'), a.url, b.url, 'victim', await codeFor(victim.secret)));
  });

  it('counts a name that does not exist exactly as one that does, so the 429 tells nobody which names exist', async () => {
    const known = await addUser(pool, serverKey, 'known');
    const wrong = await wrongCode(known.secret);
    const statuses = async (name: string, net: number) => {
      const out: number[] = [];
      for (let i = 0; i < 12; i++)
        out.push((await logIn(new Browser(`2001:db8:${net.toString(16)}:${i}::1`), a.url, b.url, name, wrong)).status);
      return out;
    };
    const forKnown = await statuses('known', 0x200);
    assert.deepEqual(forKnown, [...new Array(10).fill(401), 429, 429]);
    assert.deepEqual(await statuses('ghost', 0x300), forKnown);
  });

  it('allows 5 codes per pending login, then the login must start again, even if the client keeps the old cookie', async () => {
    const pat = await addUser(pool, serverKey, 'pat');
    const br = new Browser('198.51.100.30');
    const wrong = await wrongCode(pat.secret);
    const first = await logIn(br, a.url, a.url, 'pat', wrong);
    assert.equal(first.status, 401);
    const stale = new Map(br.cookies);
    const tries = [first];
    for (let i = 0; i < 4; i++) tries.push(await br.submit(`${i % 2 ? a.url : b.url}/login/totp`, { code: wrong }));
    assert.deepEqual(
      tries.map((r) => r.status),
      [401, 401, 401, 401, 401],
    );
    for (const r of tries.slice(0, 4)) assert.match(r.text, /action="\/login\/totp"/, 'the code form again');
    assert.match(tries[4]!.text, /Too many wrong codes for this login\. Start again\./);
    assert.match(tries[4]!.text, /action="\/login"/, 'back at step 1');
    assert.equal(br.cookies.get('hopmap.login'), undefined, 'the pending login cookie is cleared');

    // A client that kept the old pending login gets nothing more from it, not even with the right code.
    for (const [k, v] of stale) br.cookies.set(k, v);
    const replay = await br.submit(`${b.url}/login/totp`, { code: await codeFor(pat.secret) });
    assert.equal(replay.status, 401);
    assert.match(replay.text, /Start again/);
    assert.equal((await br.get(`${a.url}/api/me`)).status, 401);
    const line = captured.lines.find((l) => l.includes('user=pat reason=too_many_tries'));
    assert.ok(line, 'logged as AUTH_FAILURE');
    assert.match(line, fail2banRegex(), "fail2ban's filter counts it");

    // Starting again works.
    assert.equal((await logIn(br, a.url, b.url, 'pat', await codeFor(pat.secret))).status, 303);
  });

  it('answers a hostile name (NUL, control characters, 10,000 characters) like any wrong one, never a 500', async () => {
    const quinn = await addUser(pool, serverKey, 'quinn');
    for (const [i, name] of [
      'quinn\u0000',
      '\u0000',
      'a\u0007b',
      'x'.repeat(10_000),
      'quinn\nreason=forged',
    ].entries()) {
      const br = new Browser(`198.51.100.${60 + i}`);
      await br.get(`${a.url}/login`);
      const step1 = await br.submit(`${a.url}/login`, { name });
      assert.ok(
        step1.status === 303 || step1.status === 400,
        `step 1 for ${JSON.stringify(name.slice(0, 20))}: ${step1.status}`,
      );
      if (step1.status === 303) {
        const step2 = await br.submit(`${b.url}/login/totp`, { code: '000000' });
        assert.ok(
          step2.status === 401 || step2.status === 303,
          `step 2 for ${JSON.stringify(name.slice(0, 20))}: ${step2.status} ${step2.text.slice(0, 200)}`,
        );
      }
    }
    assert.equal(
      (await logIn(new Browser('198.51.100.70'), a.url, b.url, 'quinn', await codeFor(quinn.secret))).status,
      303,
      'the service still logs people in',
    );
  });

  it('stores no session row for 300 anonymous visits to the login page, nor for step 1', async () => {
    const before = await sessionRows();
    for (let round = 0; round < 10; round++) {
      const pages = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          new Browser(`2001:db8:ffff::${(round * 30 + i).toString(16)}`).get(`${round % 2 ? a.url : b.url}/login`),
        ),
      );
      for (const page of pages) {
        assert.equal(page.status, 200);
        assert.match(page.text, /name="_csrf" value="[^"]+"/);
      }
    }
    const br = new Browser('203.0.113.250');
    await br.get(`${a.url}/login`);
    assert.equal((await br.submit(`${a.url}/login`, { name: 'someone' })).status, 303);
    assert.equal((await br.get(`${b.url}/login/totp`)).status, 200);
    assert.equal(br.cookie, undefined, 'no session cookie before login');
    assert.equal(await sessionRows(), before);
  });

  it('refuses the login form with a CSRF token that is not signed by this server, or not the cookie it came with', async () => {
    const br = new Browser('198.51.100.40');
    await br.get(`${a.url}/login`);
    const token = br.csrf!;
    const forged = `${token.slice(0, token.indexOf('.'))}.${'A'.repeat(43)}`;
    br.cookies.set('hopmap.csrf', `hopmap.csrf=${forged}`);
    const res = await br.post(`${a.url}/login`, { name: 'x', _csrf: forged });
    assert.equal(res.status, 403);
    assert.equal(res.json().error.code, 'csrf_failed');
    const other = new Browser('198.51.100.40');
    await other.get(`${b.url}/login`);
    const mixed = await other.post(`${b.url}/login`, { name: 'x', _csrf: token });
    assert.equal(mixed.status, 403, 'a valid token of another visitor');
  });

  it('refuses to start with a server key file that others may read, naming the file, its mode and the fix', async () => {
    const file = join(scratch, 'server.key');
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`);
    chmodSync(file, 0o644);
    const child = spawnNode(
      [
        BIN_PATH,
        'manager',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--no-migrate',
        '--tls',
        'off',
        '--server-key-file',
        file,
      ],
      {
        DATABASE_URL: db.url,
        SERVER_KEY: undefined,
        HOPMAP_SERVER_KEY: undefined,
      },
    );
    // Should it start after all, stop it, so the test fails rather than waits.
    const started = child.waitFor(/manager ready|listening/, 30_000).then(
      () => child.child.kill('SIGTERM'),
      () => {},
    );
    const { code } = await child.exited;
    await started;
    const output = child.output();
    assert.equal(code, 2, output);
    assert.ok(output.includes(`${file} has mode 0644`), output);
    assert.ok(output.includes(`chmod 600 ${file}`), output);
    assert.doesNotMatch(output, /\n\s+at /, 'no stack trace');
  });
});
