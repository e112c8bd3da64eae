import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { createPool } from '../../src/db/create-pool.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { findPgTool } from '../../src/db/pg-tools.js';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { postJson, request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { traceResult } from '../support/result-factory.js';
import { bearer, testKey } from '../support/keys.js';
import { spawnNode } from '../support/spawn-process.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';
import { serverWithPgDump } from '../support/server-with-pg-dump.js';

const skip = needs('database', 'pg_dump');

const run = promisify(execFile);
/** Site A and site B see different traces and one in common (the same result posted to both). */
const path = (k: number) => [`198.18.${k}.1`, `198.18.${k}.2`, null, `198.18.200.${k}`, `198.19.${k}.9`];
const siteA = [1, 2, 3].map((k) => traceResult(`198.19.${k}.9`, path(k)));
const siteB = [4, 5].map((k) => traceResult(`198.19.${k}.9`, path(k)));
const shared = traceResult('198.19.6.9', ['198.18.1.1', '198.18.1.2', '198.18.6.3', '198.19.6.9']);

interface LinkRow {
  near: string;
  far: string;
  count: string;
}

async function snapshot(url: string) {
  const c = new pg.Client(url);
  await c.connect();
  try {
    const q = async (sql: string) => (await c.query(sql)).rows;
    return {
      results: (await q('select id::text from measurements.results order by id')).map((r) => r.id as string),
      ids: Number((await q('select count(*) from result_ids'))[0]!.count),
      hops: (await q('select host(address) as a from hops order by address')).map((r) => r.a as string),
      links:
        (await q(`select host(near) as near, host(far) as far, count::text, delta_min_us, delta_max_us, delta_sum_us,
                              first_seen_at, last_seen_at from links order by near, far`)) as LinkRow[],
    };
  } finally {
    await c.end();
  }
}

describe('GET /dump and hopmap merge: the central aggregation', { skip }, () => {
  const dbs: Record<'a' | 'b' | 'union' | 'restored' | 'central', TestDatabase> = {} as never;
  let outA: RunningService;
  let outB: RunningService;
  let dir: string;
  /** Each output's admin key (posting results and dumping both take one), made in its own database. */
  const admin = new Map<RunningService, Record<string, string>>();

  before(async () => {
    const server = await serverWithPgDump();
    for (const name of ['a', 'b', 'union', 'central'] as const)
      dbs[name] = await createTestDatabase(`dump_${name}`, { server });
    dbs.restored = await createTestDatabase('dump_restored', { server, empty: true });
    dir = await mkdtemp(join(tmpdir(), 'hopmap-dump-'));
    const opts = { host: '127.0.0.1', port: 0, log: quietLog };
    outA = await startService(outputService(outputWiring), { ...opts, databaseUrl: dbs.a.url });
    outB = await startService(outputService(outputWiring), { ...opts, databaseUrl: dbs.b.url });
    const union = await startService(outputService(outputWiring), { ...opts, databaseUrl: dbs.union.url });
    for (const [svc, db] of [
      [outA, dbs.a],
      [outB, dbs.b],
      [union, dbs.union],
    ] as const)
      admin.set(svc, bearer(await testKey(db.url, 'admin')));
    for (const [svc, batch] of [
      [outA, [...siteA, shared]],
      [outB, [...siteB, shared]],
      [union, [...siteA, ...siteB, shared]],
    ] as const) {
      assert.equal((await postJson(`${svc.url}/results`, batch, admin.get(svc))).status, 200);
    }
    await union.stop();
  });

  after(async () => {
    await Promise.all([outA?.stop(), outB?.stop()]);
    await Promise.all(Object.values(dbs).map((d) => d?.drop()));
    if (dir) await rm(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  /** `hopmap merge` as a user runs it; `stdout` holds both streams. */
  async function merge(files: string[]) {
    const p = spawnNode(['bin/hopmap.js', 'merge', ...files], { DATABASE_URL: dbs.central.url });
    const { code } = await p.exited;
    return { code, stdout: p.output() };
  }

  async function dump(svc: RunningService, name: string): Promise<string> {
    const res = await request(`${svc.url}/dump`, { headers: admin.get(svc) });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['content-type'], 'application/vnd.postgresql.custom-dump');
    assert.match(String(res.headers['content-disposition']), /^attachment; filename="hopmap-\d{8}T\d{6}Z\.dump"$/);
    assert.equal(res.body.subarray(0, 5).toString(), 'PGDMP', 'a pg_dump custom-format archive');
    const file = join(dir, name);
    await writeFile(file, res.body);
    return file;
  }

  it('a dump restores into an empty database with pg_restore, and that database is a working hopmap database', async () => {
    const file = await dump(outA, 'a.dump');
    const pgRestore = await findPgTool('pg_restore');
    await run(pgRestore.path, [
      '--no-owner',
      '--no-privileges',
      '--exit-on-error',
      `--dbname=${dbs.restored.url}`,
      file,
    ]);
    assert.deepEqual(await snapshot(dbs.restored.url), await snapshot(dbs.a.url));
    const migrated = await migrateDatabase(dbs.restored.url, quietLog);
    assert.equal(migrated.applied, 0, 'the dump carries the migration history, so nothing is applied again');
  });

  it('two dumps merge into one database exactly as if one instance had received every result', async () => {
    const files = [await dump(outA, 'a2.dump'), await dump(outB, 'b.dump')];
    const { code, stdout } = await merge(files);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /a2\.dump -> .*: results 4 stored, 0 already here, 0 rejected \(of 4\)/);
    assert.match(stdout, /b\.dump -> .*: results 2 stored, 1 already here, 0 rejected \(of 3\)/);
    assert.deepEqual(await snapshot(dbs.central.url), await snapshot(dbs.union.url));
  });

  it('merging the same dump again changes nothing, and links the source kept after retiring their results are added once', async () => {
    const before = await snapshot(dbs.central.url);
    // A link whose results site B has already retired: only the aggregate in `links` remembers it.
    const b = createPool(dbs.b.url, quietLog, { max: 1 });
    await b.query(
      `insert into links values ('198.18.77.1', '198.18.77.2', now() - interval '9 days', now() - interval '8 days', 41, 10, 90, 2050)`,
    );
    await b.end();
    const file = await dump(outB, 'b-retired.dump');
    for (let round = 0; round < 2; round++) {
      const { code, stdout } = await merge([file]);
      assert.equal(code, 0, stdout);
      assert.match(stdout, /results 0 stored, 3 already here/);
      assert.match(stdout, round === 0 ? /links from retired results 1 new/ : /links from retired results 0 new/);
    }
    const after = await snapshot(dbs.central.url);
    assert.deepEqual(after.results, before.results);
    assert.deepEqual(after.hops, before.hops);
    const retired = after.links.find((l) => l.near === '198.18.77.1');
    assert.equal(retired?.count, '41');
    assert.deepEqual(
      after.links.filter((l) => l !== retired),
      before.links,
    );
  });

  it('a damaged archive is refused with the file named and nothing stored', async () => {
    const whole = await request(`${outA.url}/dump`, { headers: admin.get(outA) });
    const file = join(dir, 'cut.dump');
    await writeFile(file, whole.body.subarray(0, Math.floor(whole.body.length / 2)));
    const before = await snapshot(dbs.central.url);
    const { code, stdout } = await merge([file]);
    assert.equal(code, 1);
    assert.match(stdout, /cut\.dump: /);
    assert.deepEqual(await snapshot(dbs.central.url), before);
  });

  it('GET /dump without a usable pg_dump is a clear 503, not a broken archive', async () => {
    const svc = await startService(outputService({ ...outputWiring, pgDump: '/bin/true' }), {
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
      databaseUrl: dbs.a.url,
    });
    try {
      const res = await request(`${svc.url}/dump`, { headers: bearer(await testKey(dbs.a.url, 'admin')) });
      assert.equal(res.status, 503);
      assert.equal(res.json().error.code, 'pg_dump_unavailable');
      assert.match(res.json().error.message, /\/bin\/true is not a working pg_dump/);
    } finally {
      await svc.stop();
    }
  });
});
