import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { isTransientDatabaseError } from '../../src/db/transient-errors.js';
import { withRetry } from '../../src/db/with-retry.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

describe('isTransientDatabaseError', { skip }, () => {
  const cases: Array<[string, unknown, boolean]> = [
    ['serialization failure 40001', { code: '40001' }, true],
    ['deadlock 40P01', { code: '40P01' }, true],
    ['admin shutdown 57P01', { code: '57P01' }, true],
    ['cannot connect now 57P03', { code: '57P03' }, true],
    ['connection failure 08006', { code: '08006' }, true],
    ['connection does not exist 08003', { code: '08003' }, true],
    [
      'refused TCP connection',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      true,
    ],
    ['terminated connection', new Error('Connection terminated unexpectedly'), true],
    ['unique violation 23505', { code: '23505' }, false],
    ['syntax error 42601', { code: '42601' }, false],
    ['division by zero 22012', { code: '22012' }, false],
    ['a plain bug', new TypeError('x is undefined'), false],
    ['not an error', 'nope', false],
  ];
  for (const [name, err, transient] of cases) {
    it(`${name} → ${transient ? 'retry' : 'fail'}`, () => assert.equal(isTransientDatabaseError(err), transient));
  }
});

describe('withRetry against a real PostgreSQL', { skip }, () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  before(async () => {
    db = await createTestDatabase('with_retry');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pool.on('error', () => {});
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  it('retries a query whose backend was terminated (57P01) and succeeds on a new connection', async () => {
    const seen: string[] = [];
    const value = await withRetry(
      async (attempt) => {
        const client = await pool.connect();
        let broken = false;
        try {
          if (attempt === 1) await client.query('select pg_terminate_backend(pg_backend_pid())');
          const { rows } = await client.query<{ v: number }>('select 41 + 1 as v');
          return rows[0]!.v;
        } catch (err) {
          broken = true;
          seen.push((err as { code?: string }).code ?? (err as Error).message);
          throw err;
        } finally {
          client.release(broken);
        }
      },
      { baseDelayMs: 10 },
    );
    assert.equal(value, 42);
    assert.equal(seen[0], '57P01');
  });

  it('does not retry a real error, and gives up after the attempts on a transient one', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(async () => {
        calls++;
        await pool.query('select 1/0');
      }),
      (err: { code?: string }) => err.code === '22012',
    );
    assert.equal(calls, 1);

    calls = 0;
    await assert.rejects(
      withRetry(
        () => {
          calls++;
          return Promise.reject(Object.assign(new Error('could not serialize access'), { code: '40001' }));
        },
        { attempts: 3, baseDelayMs: 1 },
      ),
      /could not serialize/,
    );
    assert.equal(calls, 3);
  });
});
