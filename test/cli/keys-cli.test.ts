import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningService } from '../../src/service/start-service.js';
import { BIN_PATH } from '../../src/version.js';
import { request } from '../support/http-client.js';
import { startInput, writeTargetDir } from '../support/input-fixture.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode } from '../support/spawn-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

describe('hopmap keys', { skip }, () => {
  let db: TestDatabase;
  let dir: string;
  let input: RunningService;

  before(async () => {
    db = await createTestDatabase('keys_cli');
    dir = writeTargetDir({ 'blocks.txt': '20.0.0.0/28\n' });
    input = await startInput(db.url, { targets: dir });
  });

  after(async () => {
    await input?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  async function hopmap(args: string[], env: Record<string, string> = {}) {
    const child = spawnNode([BIN_PATH, ...args], {
      DATABASE_URL: db.url,
      HOPMAP_AUTH: undefined,
      HOPMAP_INPUT_KEY: undefined,
      ...env,
    });
    let stdout = '';
    child.child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    const { code } = await child.exited;
    return { code, stdout, output: child.output() };
  }

  const targets = (key: string) =>
    request(`${input.url}/targets?n=1`, { headers: { authorization: `Bearer ${key}`, 'x-consumer-id': 'probe' } });
  let key = '';

  it('add prints the new key once, as the last line, and it works against a running input at once', async () => {
    const added = await hopmap(['keys', 'add', 'pi-helsinki', '--role', 'worker']);
    assert.equal(added.code, 0, added.output);
    const lines = added.stdout.split('\n');
    assert.equal(lines.at(-1), '', 'the output ends with a newline');
    key = lines.at(-2)!;
    assert.match(key, /^hm_[A-Za-z0-9_-]{43}$/, added.stdout);
    assert.match(added.stdout, /role worker/);
    assert.equal(added.output.split(key).length, 2, 'printed once');

    const res = await targets(key);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().targets.length, 1);
    assert.equal(
      (await request(`${input.url}/status`, { headers: { authorization: `Bearer ${key}` } })).status,
      403,
      'a worker key is no admin key',
    );

    const admin = await hopmap(['keys', 'add', 'operator', '--role', 'admin']);
    assert.equal(
      (
        await request(`${input.url}/status`, {
          headers: { authorization: `Bearer ${admin.stdout.trim().split('\n').at(-1)}` },
        })
      ).status,
      200,
    );
  });

  it('list shows name, prefix, role, created, last use and state, never a key', async () => {
    const listed = await hopmap(['keys', 'list']);
    assert.equal(listed.code, 0, listed.output);
    const [header, ...rows] = listed.stdout.trim().split('\n');
    assert.match(header!, /^name\s+prefix\s+role\s+created\s+last used\s+state$/);
    const pi = rows.find((r) => r.startsWith('pi-helsinki '));
    assert.ok(pi, listed.stdout);
    assert.match(
      pi,
      new RegExp(
        `^pi-helsinki\\s+${key.slice(0, 11)}…\\s+worker\\s+\\d{4}-\\d\\d-\\d\\dT\\S+\\s+(never|\\d{4}-\\S+)\\s+active$`,
      ),
    );
    assert.ok(rows.some((r) => /^operator\s+hm_\S+\s+admin\s/.test(r)));
    assert.ok(!listed.output.includes(key.slice(11)), 'no key, nor its secret part');
  });

  it('revoke NAME refuses the key at once; a name with no active key is an error', async () => {
    const revoked = await hopmap(['keys', 'revoke', 'pi-helsinki']);
    assert.equal(revoked.code, 0, revoked.output);
    assert.match(revoked.stdout, /1 key\(s\) of pi-helsinki revoked/);
    const res = await targets(key);
    assert.equal(res.status, 401);
    assert.equal(res.json().error.code, 'api_key_revoked');
    assert.match((await hopmap(['keys', 'list'])).stdout, /pi-helsinki .* revoked \d{4}-/);

    const again = await hopmap(['keys', 'revoke', 'pi-helsinki']);
    assert.equal(again.code, 1);
    assert.match(again.output, /no active key named "pi-helsinki"/);
  });

  it('refuses a bad name or role, and services refuse a bad --auth or --input-key before they start', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [
        ['keys', 'add', 'pi helsinki', '--role', 'worker'],
        1,
        /invalid key name "pi helsinki": use 1-64 letters, digits or \. _ : @ -/,
      ],
      [['keys', 'add', 'a/b', '--role', 'worker'], 1, /invalid key name/],
      [['keys', 'add', 'pi', '--role', 'root'], 1, /invalid role "root": use worker, feeder, admin/],
      [['keys', 'add', 'pi'], 1, /required option '--role <role>' not specified/],
      [['input', '--auth', 'maybe'], 2, /invalid configuration --auth: expected keys or off/],
      [['output', '--input-key', 'secret'], 2, /invalid configuration --input-key: expected a hopmap key/],
    ];
    for (const [args, code, message] of cases) {
      const res = await hopmap(args, { HOPMAP_AUTH: 'keys' });
      assert.equal(res.code, code, `${args.join(' ')}: ${res.output}`);
      assert.match(res.output, message, args.join(' '));
      assert.ok(!/hm_[A-Za-z0-9_-]{43}/.test(res.stdout), 'no key made');
    }
    const env = await hopmap(['input', '--port', '0'], { HOPMAP_AUTH: 'none' });
    assert.equal(env.code, 2);
    assert.match(env.output, /invalid configuration environment HOPMAP_AUTH: expected keys or off/);
  });
});
