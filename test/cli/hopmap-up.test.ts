import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { LocalCluster } from '../../src/db/local-cluster.js';
import { BIN_PATH } from '../../src/version.js';
import { assertNoLeaks } from '../support/leaks.js';
import { request } from '../support/http-client.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { freePort } from '../support/throwaway-postgres.js';

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hopmap-state-'));
  chmodSync(dir, 0o755); // the embedded server runs as `postgres` when tests run as root
  return dir;
}

describe('hopmap up', () => {
  let db: TestDatabase;
  const dirs: string[] = [];
  const children: Spawned[] = [];
  before(async () => {
    db = await createTestDatabase('hopmap_up');
  });
  after(async () => {
    // A failed assertion must not leave `up` (and its services) running.
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await db?.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('with DATABASE_URL uses that database, starts no other, and stops cleanly on Ctrl-C', async () => {
    const dir = stateDir();
    dirs.push(dir);
    const inputPort = await freePort();
    const up = spawnNode([BIN_PATH, 'up', '--input-port', String(inputPort), '--output-port', String(await freePort()), '--output-health-port', String(await freePort())], { DATABASE_URL: db.url, HOPMAP_STATE_DIR: dir, LOG_LEVEL: 'warn' });
    children.push(up);
    await up.waitFor(/hopmap is up/, 180_000);
    assert.ok(up.output().includes(`database   ${db.url}`), up.output());
    assert.ok(!existsSync(join(dir, 'postgres')), 'no embedded PostgreSQL was created');

    // The target feeder runs, with the bootstrap targets loaded.
    assert.ok(up.output().includes(`input      http://127.0.0.1:${inputPort}`), up.output());
    const info = (await request(`http://127.0.0.1:${inputPort}/service-info`)).json();
    assert.equal(info.service_type, 'input');
    const batch = (await request(`http://127.0.0.1:${inputPort}/targets?n=5`)).json();
    assert.equal(batch.targets.length, 5);

    up.child.kill('SIGINT');
    assert.equal((await up.exited).code, 0, up.output());
    await assert.rejects(request(`http://127.0.0.1:${inputPort}/health`), /ECONNREFUSED/, 'the service stopped with up');
  });

  it('without DATABASE_URL starts the embedded PostgreSQL, prints where it lives, and stops it on Ctrl-C', async () => {
    const dir = stateDir();
    dirs.push(dir);
    const port = String(await freePort());
    const env = { DATABASE_URL: undefined, HOPMAP_STATE_DIR: dir, HOPMAP_EMBEDDED_PORT: port, LOG_LEVEL: 'warn' };
    const up = spawnNode([BIN_PATH, 'up', '--input-port', String(await freePort()), '--output-port', String(await freePort()), '--output-health-port', String(await freePort())], env);
    children.push(up);
    await up.waitFor(/hopmap is up/, 180_000);
    const [, url] = up.output().match(/database   (postgres:\S+)/) ?? [];
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

  it('rejects a bad configuration value naming the key, exit 2', async () => {
    const up = spawnNode([BIN_PATH, 'up', '--embedded-port', 'lots'], { DATABASE_URL: db.url });
    assert.equal((await up.exited).code, 2);
    assert.match(up.output(), /invalid configuration --embedded-port: expected a port number/);
  });
});
