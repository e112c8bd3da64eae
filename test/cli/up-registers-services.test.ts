import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { unixSocketUrl } from '../../src/lab/lab-database.js';
import { run } from '../../src/lab/run-ip.js';
import { teardownLab } from '../../src/lab/teardown-lab.js';
import { ensureServerKeyFile } from '../../src/manager/crypto/server-key.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { REGISTERED_FILE } from '../../src/up/up-registry.js';
import { BIN_PATH, PROJECT_ROOT } from '../../src/version.js';
import { removeStaleTestLabs, testLabName } from '../lab/test-lab-name.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { createLoopbackNamespace, nodeInNamespace } from './loopback-namespace.js';
import type { ManagerView } from './manager-session.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'root', 'ip');

// `up` runs in a network namespace with only lo, so its worker probes nothing off this machine (as in
// hopmap-up.test.ts); the manager is reached from inside it, with a signed-in session.
const TAG = 'tureg';
const MANAGER = 'https://127.0.0.1:8443';

describe('hopmap up registers the services it starts with its manager', { skip }, () => {
  let db: TestDatabase;
  let pool: Pool;
  let ns: string;
  let dir: string;
  let serverKey: Buffer;
  const children: Spawned[] = [];
  const lab = testLabName(TAG);

  before(async () => {
    await removeStaleTestLabs(TAG);
    db = await createTestDatabase('up_registry');
    pool = createPool(db.url, quietLog, { max: 2 });
    ns = await createLoopbackNamespace(lab);
    dir = mkdtempSync(join(tmpdir(), 'hopmap-state-'));
    chmodSync(dir, 0o755);
    // The key `up` would make; made first so the test can add users the manager lets in.
    serverKey = ensureServerKeyFile(dir).key;
  });
  after(async () => {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await teardownLab(lab);
    await pool?.end();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  /** `hopmap up` in the namespace; stdout is a pipe, so its log is JSON lines as ever. */
  async function startUp(args: string[], env: Record<string, string> = {}): Promise<Spawned> {
    const up = spawnNode(
      [],
      {
        DATABASE_URL: await unixSocketUrl(db.url),
        HOPMAP_STATE_DIR: dir,
        LOG_LEVEL: 'info',
        PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`,
        ...env,
      },
      // Nothing answers in the namespace: at 20 pps the worker's "no answers" alarm (200 unanswered probes)
      // comes 10 s after it starts, past the checks of its first health.
      nodeInNamespace(ns, [BIN_PATH, 'up', '--worker-id', `reg-${process.pid}`, '--worker-pps', '20', ...args]),
    );
    children.push(up);
    await up.waitFor(/Ctrl-C stops everything/, 180_000);
    return up;
  }

  /** The registry as the manager's API and dashboard show it to a signed-in operator. */
  async function managerView(): Promise<ManagerView> {
    const name = `ops-${Date.now()}`; // a user per sign-in: a TOTP code is accepted once
    const { secret } = await addUser(pool, serverKey, name);
    const res = await run(
      'ip',
      ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(PROJECT_ROOT, 'test/cli/manager-session.ts')],
      { input: JSON.stringify({ base: MANAGER, name, secret }), timeoutMs: 30_000 },
    );
    assert.equal(res.code, 0, res.stderr);
    return JSON.parse(res.stdout) as ManagerView;
  }

  const rows = async () =>
    (
      await pool.query<{ id: number; url: string; service_type: string; status: string }>(
        'select id::int, url, service_type, status from manager.registered_services order by url',
      )
    ).rows;

  it('lists input, output and the worker as healthy at once, keeps no duplicates across restarts, and deregisters them at the stop', async () => {
    // A first start, with every log line (debug) to see where graphile-worker's completions went.
    const first = await startUp(['--output-port', '8081'], { LOG_LEVEL: 'debug' });
    assert.match(first.output(), /registry {3}input, output, worker registered with the manager/);

    const view = await managerView();
    const byType = Object.fromEntries(view.services.map((s) => [s.service_type, s]));
    assert.deepEqual(Object.keys(byType).sort(), ['input', 'output', 'ping'], JSON.stringify(view.services));
    for (const s of view.services) assert.equal(s.status, 'ok', `${s.name}: ${s.status} ${s.last_error}`);
    assert.equal(byType.input!.url, 'http://127.0.0.1:8080');
    assert.equal(byType.output!.url, 'http://127.0.0.1:8081');
    assert.equal(byType.ping!.url, 'http://127.0.0.1:8092');
    assert.match(view.dashboard, /3 ok<\/span> of\s+3 registered/, 'the dashboard counts them from its first page');

    // Off a terminal the log is JSON lines as before; graphile-worker's routine completions are debug now. A
    // poll queued now (as its cron line does every minute) runs in the manager at once.
    await pool.query(`select graphile_worker.add_job('poll_services', '{}'::json, max_attempts => 1)`);
    await first.waitFor(/Completed task \d+ \(poll_services, [\d.]+ms\) with success/, 30_000);
    assert.deepEqual(
      (await rows()).filter((r) => r.service_type !== 'ping').map((r) => r.status),
      ['ok', 'ok'],
      'the poll finds input and output healthy (the worker may have found out it has no network by now)',
    );
    const logLines = first
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    const completions = logLines.filter((l) => /^Completed task /.test(l.msg));
    assert.ok(completions.length > 0);
    for (const c of completions) assert.equal(c.level, 20, `${c.msg} at level ${c.level}`);
    assert.ok(!first.output().includes('\x1b['), 'no colours, no progress line off a terminal');
    // Nothing secret in the log or in the registry: the worker key `up` made is in its config only.
    const workerKey = (parseYaml(readFileSync(join(dir, 'worker', 'worker.yaml'), 'utf8')) as { api_key: string })
      .api_key;
    assert.match(workerKey, /^hm_/);
    assert.ok(!first.output().includes(workerKey), 'the worker key is not in the log');
    const stored = await pool.query('select * from manager.registered_services');
    assert.ok(!JSON.stringify(stored.rows).includes(workerKey), 'nor in the registry');

    // A crash (kill -9) leaves the rows; the children notice their supervisor is gone and stop.
    const before = await rows();
    assert.equal(before.length, 3);
    first.child.kill('SIGKILL');
    await first.exited;
    assert.equal((await rows()).length, 3, 'a crash deregisters nothing');
    await untilChildrenGone();

    // Restarted on the same data with the output elsewhere: still three, the output's URL changed.
    const second = await startUp(['--output-port', '8082']);
    const after = await rows();
    assert.deepEqual(
      after.map((r) => [r.service_type, r.url]),
      [
        ['input', 'http://127.0.0.1:8080'],
        ['output', 'http://127.0.0.1:8082'],
        ['ping', 'http://127.0.0.1:8092'],
      ],
    );
    const kept = (type: string) => after.find((r) => r.service_type === type)!.id;
    assert.equal(kept('input'), before.find((r) => r.service_type === 'input')!.id, 'the same row, not another');
    const again = await managerView();
    assert.equal(again.services.length, 3);
    for (const s of again.services) assert.equal(s.status, 'ok', `${s.name}: ${s.status} ${s.last_error}`);

    // Ctrl-C: every row `up` registered goes, and so does its record in the state dir.
    second.child.kill('SIGINT');
    assert.equal((await second.exited).code, 0, second.output());
    assert.deepEqual(await rows(), [], 'deregistered at the stop');
    const record = JSON.parse(readFileSync(join(dir, REGISTERED_FILE), 'utf8')) as { services: unknown[] };
    assert.deepEqual(record.services, []);
  });

  /**
   * The children of a killed `up` stop on their own (their IPC channel closed): input, output and the manager
   * deregister their instances; the worker, whose config is in the state dir, finishes its measurements first.
   */
  async function untilChildrenGone(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const instances = await pool.query<{ n: number }>('select count(*)::int as n from service_instances');
      const left = processesNaming(dir);
      if (instances.rows[0]!.n === 0 && left.length === 0) return;
      assert.ok(Date.now() < deadline, `the children of the killed up still run: ${left.join('; ')}`);
      await sleep(500);
    }
  }
});

/** Command lines of the processes that name `text` in their arguments. */
function processesNaming(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (args.includes(text)) found.push(`${pid}: ${args.slice(0, 200)}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
