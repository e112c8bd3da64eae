import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { LocalCluster } from '../../src/db/local-cluster.js';
import { unixSocketUrl } from '../../src/lab/lab-database.js';
import { teardownLab } from '../../src/lab/teardown-lab.js';
import { BIN_PATH } from '../../src/version.js';
import { removeStaleTestLabs, testLabName } from '../lab/test-lab-name.js';
import { assertNoLeaks } from '../support/leaks.js';
import { request } from '../support/http-client.js';
import { bearer, testKey } from '../support/keys.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { freePort } from '../support/throwaway-postgres.js';
import { createLoopbackNamespace, fetchInNamespace, nodeInNamespace } from './loopback-namespace.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'root', 'ip');

// Tests on the host's loopback pass --no-worker: the worker would probe the bootstrap targets on the internet.
const TAG = 'tup';

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hopmap-state-'));
  chmodSync(dir, 0o755); // the embedded server runs as `postgres` when tests run as root
  return dir;
}

describe('hopmap up', { skip }, () => {
  let db: TestDatabase;
  const dirs: string[] = [];
  const children: Spawned[] = [];
  const lab = testLabName(TAG);
  // `up` seals the manager's TLS certificate in the database with the server key it keeps in its state dir, so a
  // second `up` on the same database needs the same state dir, as on a real machine: with another, the manager
  // cannot open the certificate and restarts until `up` gives up waiting for it (2 minutes).
  let dbStateDir: string | undefined;
  const stateDirOfDb = (): string => {
    if (!dbStateDir) dirs.push((dbStateDir = stateDir()));
    return dbStateDir;
  };
  before(async () => {
    await removeStaleTestLabs(TAG);
    db = await createTestDatabase('hopmap_up');
  });
  after(async () => {
    // A failed assertion must not leave `up` (and its services) running.
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await teardownLab(lab);
    await db?.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('with DATABASE_URL uses that database, starts no other, and stops cleanly on Ctrl-C', async () => {
    const dir = stateDirOfDb();
    const inputPort = await freePort();
    const managerPort = await freePort();
    const up = spawnNode(
      [
        BIN_PATH,
        'up',
        '--no-worker',
        '--input-port',
        String(inputPort),
        '--output-port',
        String(await freePort()),
        '--output-health-port',
        String(await freePort()),
        '--manager-port',
        String(managerPort),
      ],
      { DATABASE_URL: db.url, HOPMAP_STATE_DIR: dir, LOG_LEVEL: 'warn' },
    );
    children.push(up);
    await up.waitFor(/hopmap is up/, 180_000);
    assert.ok(up.output().includes(`database   ${db.url}`), up.output());
    assert.ok(!existsSync(join(dir, 'postgres')), 'no embedded PostgreSQL was created');
    assert.ok(up.output().includes('worker     not started (--no-worker)'), up.output());
    assert.ok(!existsSync(join(dir, 'worker')), 'no worker config was written');

    // The target feeder runs, with the bootstrap targets loaded.
    assert.ok(up.output().includes(`input      http://127.0.0.1:${inputPort}`), up.output());
    const info = (await request(`http://127.0.0.1:${inputPort}/service-info`)).json();
    assert.equal(info.service_type, 'input');
    const batch = (
      await request(`http://127.0.0.1:${inputPort}/targets?n=5`, { headers: bearer(await testKey(db.url, 'worker')) })
    ).json();
    assert.equal(batch.targets.length, 5);

    // The manager runs too, with a server key `up` made in the state dir (owner-only) and says how to add a user.
    const managerInfo = await new Promise<{ service_type: string }>((resolve, reject) => {
      const req = https.get(
        `https://127.0.0.1:${managerPort}/service-info`,
        { rejectUnauthorized: false, agent: false },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(JSON.parse(body)));
        },
      );
      req.on('error', reject);
    });
    assert.equal(managerInfo.service_type, 'manager', 'the manager answers over HTTPS');
    assert.ok(up.output().includes(`manager    https://127.0.0.1:${managerPort}`), up.output());
    const keyFile = join(dir, 'server.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.ok(up.output().includes(`server key ${keyFile} (made now`), up.output());
    assert.ok(up.output().includes(`hopmap user add NAME --server-key-file ${keyFile}`), up.output());

    up.child.kill('SIGINT');
    assert.equal((await up.exited).code, 0, up.output());
    await assert.rejects(
      request(`http://127.0.0.1:${inputPort}/health`),
      /ECONNREFUSED/,
      'the service stopped with up',
    );
  });

  it('without DATABASE_URL starts the embedded PostgreSQL, prints where it lives, and stops it on Ctrl-C', async () => {
    const dir = stateDir();
    dirs.push(dir);
    const port = String(await freePort());
    const env = { DATABASE_URL: undefined, HOPMAP_STATE_DIR: dir, HOPMAP_EMBEDDED_PORT: port, LOG_LEVEL: 'warn' };
    const up = spawnNode(
      [
        BIN_PATH,
        'up',
        '--no-worker',
        '--input-port',
        String(await freePort()),
        '--output-port',
        String(await freePort()),
        '--output-health-port',
        String(await freePort()),
        '--manager-port',
        String(await freePort()),
      ],
      env,
    );
    children.push(up);
    await up.waitFor(/hopmap is up/, 180_000);
    const [, url] = up.output().match(/database {3}(postgres:\S+)/) ?? [];
    assert.ok(url?.includes(`127.0.0.1:${port}/hopmap`), up.output());
    assert.ok(up.output().includes(`embedded PostgreSQL, data in ${join(dir, 'postgres', 'pgdata')}`), up.output());

    // The printed URL works and the schema is migrated.
    const client = new pg.Client(url);
    await client.connect();
    const { rows } = await client.query(`select to_regclass('public.service_instances') as t`);
    await client.end();
    assert.equal(rows[0].t, 'service_instances');

    // `hopmap db url` attaches to the running server rather than starting another.
    const dbUrl = spawnNode([BIN_PATH, 'db', 'url'], env);
    assert.equal((await dbUrl.exited).code, 0, dbUrl.output());
    assert.ok(dbUrl.output().startsWith(`${url}\n`), dbUrl.output());
    assert.match(dbUrl.output(), /embedded PostgreSQL running/);

    up.child.kill('SIGINT');
    assert.equal((await up.exited).code, 0, up.output());
    const cluster = new LocalCluster({ baseDir: join(dir, 'postgres'), port: Number(port) });
    assert.equal(await cluster.isRunning(), false, 'the embedded PostgreSQL that up started is stopped again');
  });

  it('runs one local worker: it leases bootstrap targets, its results are stored, and Ctrl-C flushes it', async (t) => {
    let socketUrl: string;
    try {
      // Inside the namespace the database's TCP port on the host's loopback is out of reach; its socket is not.
      socketUrl = await unixSocketUrl(db.url);
    } catch (err) {
      return t.skip(`the test database has no local unix socket: ${(err as Error).message}`);
    }
    // Only lo: the bootstrap targets are unreachable there, so the worker sends nothing off this machine.
    const ns = await createLoopbackNamespace(lab);
    const dir = stateDirOfDb();
    const workerId = `up-test-${process.pid}`;
    const env = {
      DATABASE_URL: socketUrl,
      HOPMAP_STATE_DIR: dir,
      LOG_LEVEL: 'info',
      PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`,
    };
    const up = spawnNode([], env, nodeInNamespace(ns, [BIN_PATH, 'up', '--worker-id', workerId]));
    children.push(up);
    await up.waitFor(/Ctrl-C stops everything/, 180_000);
    assert.doesNotMatch(up.output(), /not ready yet/, up.output());
    assert.ok(up.output().includes(`worker     health: http://127.0.0.1:8092   (id ${workerId})\n`), up.output());
    assert.match(
      up.output(),
      /The worker probes the bootstrap targets on the internet at up to 100 pps \(--worker-pps\);\nhopmap up --no-worker/,
    );
    assert.ok(existsSync(join(dir, 'worker', 'worker.yaml')), 'the worker config is in the state dir');

    const health = await fetchInNamespace(ns, 'http://127.0.0.1:8092/health');
    assert.equal(health.status, 200, health.body);
    const status = JSON.parse(health.body);
    assert.equal(status.service_type, 'ping', health.body);
    assert.equal(status.name, workerId, health.body);
    assert.equal(status.pps_cap, 100, health.body);

    // The worker leases targets from the input and delivers to the output, which stores its results: nothing can
    // leave the namespace, so each bootstrap target gets an error result (no route), never an answered probe.
    const client = new pg.Client(db.url);
    await client.connect();
    try {
      const stored = async () =>
        (
          await client.query<{ n: number; answered: number; outsidePool: number; outsideLease: number }>(
            `select count(*)::int as n,
                    count(*) filter (where type <> 'error' or body->>'reason' not like 'no route to %')::int as answered,
                    count(*) filter (where not exists (select 1 from target_blocks b where r.target <<= b.cidr))::int as "outsidePool",
                    count(*) filter (where not exists (select 1 from leases l where l.id = r.lease and l.consumer_id = r.worker and r.target = any(l.targets)))::int as "outsideLease"
               from measurements.results r where worker = $1`,
            [workerId],
          )
        ).rows[0]!;
      const deadline = Date.now() + 60_000;
      while ((await stored()).n < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
      const before = await stored();
      assert.ok(before.n >= 20, `${before.n} results stored; output:\n${up.output()}`);
      assert.equal(before.answered, 0, 'only error results: no route');
      assert.equal(before.outsidePool, 0, 'every target is a bootstrap target');
      assert.equal(before.outsideLease, 0, 'every target came in a lease the input gave this worker');
      const { rows: leases } = await client.query<{ acked: number }>(
        `select coalesce(sum(cardinality(acked)), 0)::int as acked from leases where consumer_id = $1`,
        [workerId],
      );
      assert.ok(leases[0]!.acked > 0, "the stored results acknowledged the worker's leases");

      up.child.kill('SIGINT');
      assert.equal((await up.exited).code, 0, up.output());
      const summary = up
        .output()
        .split('\n')
        .find((l) => l.includes('"worker summary"'));
      assert.ok(summary, `the worker stopped gracefully and said what it produced:\n${up.output()}`);
      const { produced, spooled } = JSON.parse(summary) as { produced: number; spooled: number };
      assert.equal(spooled, 0, 'the worker flushed its spool before the output stopped');
      assert.equal((await stored()).n, produced, 'every result the worker produced is stored');
    } finally {
      await client.end();
    }
  });

  it('rejects a bad configuration value naming the key, exit 2', async () => {
    const up = spawnNode([BIN_PATH, 'up', '--no-worker', '--embedded-port', 'lots', '--worker-pps', 'lots'], {
      DATABASE_URL: db.url,
    });
    assert.equal((await up.exited).code, 2);
    assert.match(up.output(), /invalid configuration --embedded-port: expected a port number/);
    assert.match(up.output(), /invalid configuration --worker-pps: expected a number/);
  });
});
