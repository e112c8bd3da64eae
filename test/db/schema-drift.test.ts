import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { drizzle } from 'drizzle-orm/node-postgres';
import { generateDrizzleJson, generateMigration, pushSchema } from 'drizzle-kit/api';
import pg from 'pg';
import { MIGRATIONS_DIR } from '../../src/db/migrate.js';
import * as schema from '../../src/db/schema/index.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

describe('migrations and the drizzle schema agree', { skip }, () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('schema_drift');
  });
  after(async () => {
    await db?.drop();
    await assertNoLeaks();
  });

  it('a database built by the migrations needs no change to match the schema', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      const { statementsToExecute } = await pushSchema(schema, drizzle(pool) as never, ['public', 'manager']);
      assert.deepEqual(statementsToExecute, [], 'the migrations and src/db/schema differ; run `npm run db:generate`');
    } finally {
      await pool.end();
    }
  });

  it('the latest drizzle-kit snapshot matches the schema (nothing left to generate)', async () => {
    const snapshots = readdirSync(join(MIGRATIONS_DIR, 'meta'))
      .filter((f) => f.endsWith('_snapshot.json'))
      .sort();
    const latest = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', snapshots.at(-1)!), 'utf8'));
    const statements = await generateMigration(latest, generateDrizzleJson(schema, latest.id));
    assert.deepEqual(statements, [], 'src/db/schema changed without a migration; run `npm run db:generate`');
  });
});
