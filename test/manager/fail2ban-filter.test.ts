import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { createPool } from '../../src/db/create-pool.js';
import { createKey } from '../../src/keys/key-store.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { BIN_PATH, PROJECT_ROOT } from '../../src/version.js';
import { request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { freePort } from '../support/throwaway-postgres.js';
import { Browser, codeFor, logIn } from './manager-browser.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'fail2ban-regex');

const run = promisify(execFile);
const FILTER = join(PROJECT_ROOT, 'deploy/fail2ban/filter.d/hopmap-manager.conf');
const JAIL = join(PROJECT_ROOT, 'deploy/fail2ban/jail.d/hopmap-manager.conf');
const scratch = mkdtempSync(join(tmpdir(), 'hopmap-fail2ban-'));

async function fail2ban(tool: 'fail2ban-regex' | 'fail2ban-client', args: string[]): Promise<string> {
  try {
    return (await run(tool, args)).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    // needs('fail2ban-regex') above skips this file where fail2ban is not installed.
    if (e.code === 'ENOENT')
      throw new Error(`${tool} not found although fail2ban-regex is: a partial fail2ban install`);
    assert.fail(`${tool} ${args.join(' ')}:\n${e.stdout}${e.stderr}`);
  }
}

/** The filter's failregex for JavaScript: fail2ban's <ADDR> tag becomes a named group for an IPv4 or IPv6 address. */
function failregexInJs(): RegExp {
  const line = /^failregex = (.+)$/m.exec(readFileSync(FILTER, 'utf8'));
  assert.ok(line, 'the filter has one failregex line');
  return new RegExp(line[1]!.replace('<ADDR>', '(?<addr>(?:\\d{1,3}\\.){3}\\d{1,3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+)'));
}

// The lines come from a real `hopmap manager` process's stdout, as journald or a log file would get them.
describe('fail2ban filter on the lines hopmap manager writes', { skip }, () => {
  const serverKey = randomBytes(32);
  let db: TestDatabase;
  let manager: Spawned;
  let logFile = '';
  /** The address each failed attempt came from, in order, as the filter must find them. */
  const expected: string[] = [];
  let lines: string[] = [];

  before(async () => {
    db = await createTestDatabase('manager_fail2ban');
    const pool = createPool(db.url, quietLog, { max: 1 });
    const alice = await addUser(pool, serverKey, 'alice').finally(() => pool.end());
    const port = await freePort();
    manager = spawnNode(
      [
        BIN_PATH,
        'manager',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--no-migrate',
        '--tls',
        'off',
        '--login-rate-limit',
        '3',
      ],
      {
        DATABASE_URL: db.url,
        SERVER_KEY: serverKey.toString('base64'),
        LOG_LEVEL: 'info',
        CI: '1',
      },
    );
    await manager.waitFor(/manager service listening/);
    const url = `http://127.0.0.1:${port}`;

    const unknown = new Browser('198.51.100.10');
    assert.equal((await logIn(unknown, url, url, 'nobody', '123456')).status, 401);
    expected.push(unknown.ip);
    const wrong = new Browser('198.51.100.11');
    assert.equal((await logIn(wrong, url, url, 'alice', '000000')).status, 401);
    expected.push(wrong.ip);
    const code = await codeFor(alice.secret);
    assert.equal((await logIn(new Browser('198.51.100.12'), url, url, 'alice', code)).status, 303);
    const replay = new Browser('198.51.100.13');
    assert.equal((await logIn(replay, url, url, 'alice', code)).status, 401);
    expected.push(replay.ip);
    const late = new Browser('2001:db8::14');
    await late.get(`${url}/login`);
    assert.equal((await late.submit(`${url}/login/totp`, { code: '123456' })).status, 401);
    expected.push(late.ip);
    const hammer = new Browser('198.51.100.15');
    await hammer.get(`${url}/login`);
    for (let i = 0; i < 3; i++) assert.equal((await hammer.submit(`${url}/login`, { name: 'root' })).status, 303);
    assert.equal((await hammer.submit(`${url}/login`, { name: 'root' })).status, 429);
    expected.push(hammer.ip);
    // A name that tries to plant another address in the line.
    const forger = new Browser('198.51.100.16');
    assert.equal((await logIn(forger, url, url, 'x ip=203.0.113.99 user="y"', '123456')).status, 401);
    expected.push(forger.ip);

    manager.child.kill('SIGTERM');
    assert.equal((await manager.exited).code, 0, manager.output());
    lines = manager
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    logFile = join(scratch, 'manager.log');
    writeFileSync(logFile, `${lines.join('\n')}\n`);
  });

  after(async () => {
    if (manager && manager.child.exitCode === null && manager.child.signalCode === null) manager.child.kill('SIGKILL');
    await manager?.exited;
    await db?.drop();
    rmSync(scratch, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('writes exactly one AUTH_FAILURE line per failed login, with each reason', () => {
    const failures = lines
      .map((l) => JSON.parse(l) as { msg: string; level: number })
      .filter((l) => l.msg.startsWith('AUTH_FAILURE'));
    assert.deepEqual(
      failures.map((f) => f.msg),
      [
        'AUTH_FAILURE ip=198.51.100.10 user=nobody reason=unknown_user',
        'AUTH_FAILURE ip=198.51.100.11 user=alice reason=bad_code',
        'AUTH_FAILURE ip=198.51.100.13 user=alice reason=replayed_code',
        'AUTH_FAILURE ip=2001:db8::14 user=- reason=expired_step',
        'AUTH_FAILURE ip=198.51.100.15 user=root reason=rate_limited',
        'AUTH_FAILURE ip=198.51.100.16 user=x?ip?203.0.113.99?user??y? reason=unknown_user',
      ],
    );
    assert.ok(
      failures.every((f) => f.level === 40),
      'logged at warn',
    );
  });

  it("matches exactly those lines with fail2ban-regex and finds each one's address", async () => {
    const summary = await fail2ban('fail2ban-regex', [logFile, FILTER]);
    assert.match(
      summary,
      new RegExp(
        `^Lines: ${lines.length} lines, 0 ignored, ${expected.length} matched, ${lines.length - expected.length} missed`,
        'm',
      ),
      summary,
    );
    const found = await fail2ban('fail2ban-regex', ['-o', 'ip', logFile, FILTER]);
    assert.deepEqual(found.trim().split('\n'), expected);
  });

  it('matches the same lines with the failregex translated to JavaScript', () => {
    const re = failregexInJs();
    const found = lines.flatMap((l) => re.exec(l)?.groups?.addr ?? []);
    assert.deepEqual(found, expected);
  });

  it('ships a jail that fail2ban reads, on the systemd journal of hopmap-manager.service', async (t) => {
    if (!existsSync('/etc/fail2ban/jail.conf')) return t.skip('no /etc/fail2ban to read the jail with');
    const conf = join(scratch, 'fail2ban');
    cpSync('/etc/fail2ban', conf, { recursive: true });
    cpSync(FILTER, join(conf, 'filter.d/hopmap-manager.conf'));
    cpSync(JAIL, join(conf, 'jail.d/hopmap-manager.conf'));
    const dump = await fail2ban('fail2ban-client', ['-c', conf, '-d']);
    assert.match(dump, /\['add', 'hopmap-manager', 'systemd'\]/);
    assert.match(dump, /\['set', 'hopmap-manager', 'addfailregex', '"msg":"AUTH_FAILURE ip=<ADDR> /);
    assert.match(dump, /\['set', 'hopmap-manager', 'addjournalmatch', '_SYSTEMD_UNIT=hopmap-manager.service'\]/);
    // The same filter reads the key refusals of input and output, on their own units.
    assert.match(dump, /\['add', 'hopmap-services', 'systemd'\]/);
    assert.match(
      dump,
      /\['set', 'hopmap-services', 'addjournalmatch', '_SYSTEMD_UNIT=hopmap-input.service', '\+', '_SYSTEMD_UNIT=hopmap-output.service'\]/,
    );
  });
});

// A refused key at input or output is an AUTH_FAILURE line too, from a real `hopmap input` process.
describe('fail2ban filter on the key refusals hopmap input writes', { skip }, () => {
  let db: TestDatabase;
  let input: Spawned;
  let lines: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'hopmap-fail2ban-input-'));
  const logFile = join(dir, 'input.log');

  before(async () => {
    db = await createTestDatabase('input_fail2ban');
    const pool = createPool(db.url, quietLog, { max: 1 });
    const { key: feeder } = await createKey(pool, { name: 'feeder-1', role: 'feeder' }).finally(() => pool.end());
    const port = await freePort();
    input = spawnNode([BIN_PATH, 'input', '--host', '127.0.0.1', '--port', String(port), '--no-migrate'], {
      DATABASE_URL: db.url,
      LOG_LEVEL: 'info',
      CI: '1',
    });
    await input.waitFor(/input service listening/);
    const url = `http://127.0.0.1:${port}`;
    assert.equal((await request(`${url}/targets`)).status, 401);
    assert.equal(
      (await request(`${url}/targets`, { headers: { authorization: `Bearer hm_${'A'.repeat(43)}` } })).status,
      401,
    );
    assert.equal((await request(`${url}/targets`, { headers: { authorization: `Bearer ${feeder}` } })).status, 403);
    assert.equal((await request(`${url}/health`)).status, 200);
    input.child.kill('SIGTERM');
    assert.equal((await input.exited).code, 0, input.output());
    lines = input
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    writeFileSync(logFile, `${lines.join('\n')}\n`);
  });

  after(async () => {
    if (input && input.child.exitCode === null && input.child.signalCode === null) input.child.kill('SIGKILL');
    await input?.exited;
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('writes one line per refusal, never the key, and fail2ban-regex finds each address', async () => {
    const failures = lines
      .map((l) => (JSON.parse(l) as { msg: string }).msg)
      .filter((m) => m.startsWith('AUTH_FAILURE'));
    assert.deepEqual(
      failures.map((m) => m.replace(/user=key:hm_\S+/, 'user=key:…')),
      [
        'AUTH_FAILURE ip=127.0.0.1 user=key:- reason=missing_key',
        'AUTH_FAILURE ip=127.0.0.1 user=key:… reason=unknown_key',
        'AUTH_FAILURE ip=127.0.0.1 user=key:… reason=wrong_role',
      ],
    );
    assert.ok(!lines.some((l) => l.includes('A'.repeat(43))), 'no key in any line');
    const summary = await fail2ban('fail2ban-regex', [logFile, FILTER]);
    assert.match(summary, /^Lines: \d+ lines, 0 ignored, 3 matched/m, summary);
  });
});
