import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { ConfigError } from '../../src/config/load-config.js';
import { embeddedCluster, ensureEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded-postgres.js';
import { embeddedMajor } from '../../src/db/local-cluster.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { findPgTool } from '../../src/db/pg-tools.js';
import { outputService } from '../../src/output/output-service.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { postJson, request } from '../support/http-client.js';
import { bearer, testKey } from '../support/keys.js';
import { needs } from '../support/needs.js';
import { traceResult } from '../support/result-factory.js';
import { spawnNode } from '../support/spawn-process.js';
import { quietLog } from '../support/test-databases.js';
import { freePort } from '../support/throwaway-postgres.js';

const skip = needs('pg_dump', 'pg_restore', 'psql');
const run = promisify(execFile);

/**
 * `hopmap up`'s default database is the embedded PostgreSQL; its dump (GET /dump), `hopmap merge` and psql
 * must work with the client tools this machine has (Debian stable's, in CI), not only with a matching set.
 * This file starts its own embedded server, whatever database the rest of the suite uses.
 */
describe("the embedded PostgreSQL works with the machine's client tools", { skip }, () => {
  let stateDir: string;
  let port: number;
  let db: EmbeddedDatabase;
  let output: RunningService;
  let admin: { authorization: string };

  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'hopmap-clients-'));
    chmodSync(stateDir, 0o755); // the server runs as `postgres` when tests run as root
    port = await freePort();
    db = await ensureEmbeddedPostgres({ stateDir, port, log: quietLog });
    await migrateDatabase(db.url, quietLog);
    output = await startService(outputService(outputWiring), {
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
      databaseUrl: db.url,
    });
    admin = bearer(await testKey(db.url, 'admin'));
    const res = await postJson(
      `${output.url}/results`,
      [traceResult('198.19.1.9', ['198.18.1.1', '198.18.1.2', '198.19.1.9'])],
      admin,
    );
    assert.equal(res.status, 200, res.text);
  });

  after(async () => {
    await output?.stop();
    await db?.release();
    await embeddedCluster(stateDir, port)
      .stop('immediate')
      .catch(() => {});
    await rm(stateDir, { recursive: true, force: true });
  });

  it("embeds a major no newer than the machine's pg_dump, pg_restore and psql", async () => {
    const major = await embeddedMajor();
    for (const name of ['pg_dump', 'pg_restore'] as const) {
      const tool = await findPgTool(name);
      assert.ok(tool.major >= major, `${tool.path} is ${tool.major}, the embedded server ${major}`);
    }
  });

  it("psql's catalogue commands work against it (\\l failed on a newer server)", async () => {
    for (const command of ['\\l', '\\dt', '\\d+ hops', '\\dn']) {
      const { stdout } = await run('psql', ['--no-psqlrc', '-X', '-c', command, db.url], { env: process.env });
      assert.ok(stdout.length > 0, `psql ${command} printed nothing`);
    }
    const { stdout } = await run('psql', ['--no-psqlrc', '-X', '-Atc', 'select count(*) from hops', db.url]);
    assert.ok(Number(stdout.trim()) >= 2, `hops (the two routers): ${stdout}`);
  });

  it('GET /dump answers an archive that pg_restore reads, and hopmap merge takes it', async () => {
    const res = await request(`${output.url}/dump`, { headers: admin });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.subarray(0, 5).toString(), 'PGDMP');
    const file = join(stateDir, 'site.dump');
    writeFileSync(file, res.body);
    const list = await run((await findPgTool('pg_restore')).path, ['--list', file]);
    assert.match(list.stdout, /TABLE DATA .*\blinks\b/);

    // The central database beside it on the same embedded server, as an operator aggregating sites would.
    const admin2 = new pg.Client(db.cluster.url('postgres'));
    await admin2.connect();
    await admin2.query('create database central');
    await admin2.end();
    const central = db.cluster.url('central');
    await migrateDatabase(central, quietLog);
    const merge = spawnNode(['bin/hopmap.js', 'merge', file], { DATABASE_URL: central });
    const { code } = await merge.exited;
    assert.equal(code, 0, merge.output());
    assert.match(merge.output(), /results 1 stored, 0 already here, 0 rejected \(of 1\)/);
  });

  it('a data directory made by another major is refused with what to do, not a log tail', async () => {
    const other = mkdtempSync(join(tmpdir(), 'hopmap-other-major-'));
    try {
      chmodSync(other, 0o755);
      mkdirSync(join(other, 'postgres', 'pgdata'), { recursive: true });
      writeFileSync(join(other, 'postgres', 'pgdata', 'PG_VERSION'), `${(await embeddedMajor()) + 3}\n`);
      writeFileSync(join(other, 'postgres', 'postgres-password'), 'x\n');
      await assert.rejects(
        ensureEmbeddedPostgres({ stateDir: other, port: await freePort(), log: quietLog }),
        (err: Error) =>
          err instanceof ConfigError &&
          /holds a PostgreSQL \d+ cluster, but this hopmap embeds PostgreSQL \d+/.test(err.message) &&
          /set DATABASE_URL/.test(err.message),
      );
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
