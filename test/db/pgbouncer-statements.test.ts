import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertOwnSession, SessionRequiredError } from '../../src/db/assert-own-session.js';
import { createPool } from '../../src/db/create-pool.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { assertNoLeaks } from '../support/leaks.js';
import { startPgBouncer, type RunningPgBouncer } from '../support/pgbouncer.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'pgbouncer');

describe('PgBouncer in transaction mode: statements and sessions', { skip }, () => {
  let db: TestDatabase;
  let bouncer: RunningPgBouncer;
  let sessionBouncer: RunningPgBouncer;

  before(async () => {
    db = await createTestDatabase('pgbouncer_statements', { empty: true });
    [bouncer, sessionBouncer] = await Promise.all([
      startPgBouncer({ serverUrl: db.adminUrl, poolSize: 2 }),
      startPgBouncer({ serverUrl: db.adminUrl, poolSize: 2, poolMode: 'session' }),
    ]);
  });

  after(async () => {
    await bouncer?.stop();
    await sessionBouncer?.stop();
    await db?.drop();
    await assertNoLeaks();
  });

  /** 4 clients over 2 server connections, each client's first query named: at least two must prepare it on a server that has it. */
  const namedQueries = async (preparedStatements: boolean) => {
    const pool = createPool(bouncer.url(db.name), quietLog, { max: 4, preparedStatements });
    try {
      return await Promise.allSettled(
        Array.from({ length: 24 }, (_, i) =>
          pool.query<{ n: number }>({ name: 'hopmap_probe', text: 'select $1::int as n, pg_sleep(0.01)', values: [i] }),
        ),
      );
    } finally {
      await pool.end();
    }
  };

  it("a service pool sends libraries' named statements unnamed, so they work through it", async () => {
    const results = await namedQueries(false);
    const failed = results.filter((r) => r.status === 'rejected');
    assert.equal(failed.length, 0, `failed: ${failed.map((r) => r.reason.message).join('; ')}`);
    assert.deepEqual(
      results.map((r) => (r as PromiseFulfilledResult<{ rows: Array<{ n: number }> }>).value.rows[0]!.n),
      Array.from({ length: 24 }, (_, i) => i),
    );
  });

  it('with prepared statements allowed, the same queries fail through it (what the unnamed client prevents)', async () => {
    const failed = (await namedQueries(true)).filter((r) => r.status === 'rejected');
    assert.ok(failed.length >= 1, 'some named statement failed');
    assert.match((failed[0] as PromiseRejectedResult).reason.message, /prepared statement "hopmap_probe"/);
  });

  it('tells a transaction pool from a real session: direct and session-mode PgBouncer pass, transaction mode is refused naming DATABASE_DIRECT_URL', async () => {
    for (const url of [db.url, sessionBouncer.url(db.name)]) {
      const pool = createPool(url, quietLog, { max: 2 });
      try {
        await assertOwnSession(pool, url, 'the test');
      } finally {
        await pool.end();
      }
    }
    const pooled = createPool(bouncer.url(db.name), quietLog, { max: 2 });
    try {
      await assert.rejects(
        assertOwnSession(pooled, bouncer.url(db.name), 'the test'),
        (err: Error) =>
          err instanceof SessionRequiredError &&
          /DATABASE_DIRECT_URL/.test(err.message) &&
          /the test needs one/.test(err.message),
      );
    } finally {
      await pooled.end();
    }
  });

  it('migrating through it fails at once with that message, taking no lock, and works on the direct URL', async () => {
    await assert.rejects(migrateDatabase(bouncer.url(db.name), quietLog), /the migrator .*set DATABASE_DIRECT_URL/s);
    const direct = createPool(db.url, quietLog, { max: 1 });
    const locks = await direct.query<{ n: number }>(
      `select count(*)::int as n from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`,
    );
    await direct.end();
    assert.equal(locks.rows[0]!.n, 0, 'no advisory lock left on any server connection');
    const migrated = await migrateDatabase(db.url, quietLog);
    assert.ok(
      migrated.applied > 0 && migrated.applied === migrated.total,
      `applied ${migrated.applied} of ${migrated.total}`,
    );
  });
});
