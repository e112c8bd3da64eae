import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { journalEntries } from '../../src/db/migrate.js';
import { BIN_PATH } from '../../src/version.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode } from '../support/spawn-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

describe('hopmap migrate', { skip }, () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('migrate_concurrently', { empty: true });
  });
  after(async () => {
    await db?.drop();
    await assertNoLeaks();
  });

  it('4 processes migrating one empty database at once all exit 0 and leave one correct schema', async () => {
    const runs = Array.from({ length: 4 }, () =>
      spawnNode([BIN_PATH, 'migrate'], { DATABASE_URL: db.url, LOG_LEVEL: 'warn' }),
    );
    const results = await Promise.all(runs.map((r) => r.exited));
    results.forEach(({ code }, i) => assert.equal(code, 0, runs[i]!.output()));
    const applied = runs.map((r) => Number(r.output().match(/(\d+) migration\(s\) applied/)?.[1]));
    assert.equal(
      applied.reduce((a, b) => a + b, 0),
      journalEntries(),
      `exactly one process applied each migration: ${applied.join(',')}`,
    );

    const client = new pg.Client(db.url);
    await client.connect();
    try {
      const migrations = await client.query('select count(*)::int as n from drizzle.__drizzle_migrations');
      assert.equal(migrations.rows[0].n, journalEntries());
      const tables = await client.query(
        `select table_name from information_schema.tables where table_schema = 'public' order by 1`,
      );
      assert.ok(tables.rows.some((r) => r.table_name === 'service_instances'));
      const worker = await client.query(`select to_regclass('graphile_worker._private_jobs') as t`);
      assert.ok(worker.rows[0].t, "graphile-worker's schema is installed");
    } finally {
      await client.end();
    }
  });
});
