import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { findPgTool } from '../../src/db/pg-tools.js';
import { createRateLimiter } from '../../src/manager/auth/rate-limits.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { postJson, request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { traceResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';
import { serverWithPgDump } from '../support/server-with-pg-dump.js';

const skip = needs('database', 'pg_dump');

const run = promisify(execFile);

// Every manager secret carries this marker, so one search of the dump finds any of them.
const MARK = `leak${randomBytes(6).toString('hex')}`;

/** One row in every manager table, as a running manager would leave them. */
async function fillManagerTables(pool: Pool): Promise<string[]> {
  const user = await addUser(pool, randomBytes(32), `operator-${MARK}`);
  const { rows } = await pool.query('select user_key_sealed, totp_secret_sealed from manager.users');
  await pool.query(`update manager.users set last_totp_step = 58000000`);
  await pool.query(`insert into manager.api_keys (name, prefix, key_hash, role) values ($1, $2, $3, 'admin')`, [
    `key-${MARK}`,
    `hm_${MARK}`,
    `hash-${MARK}`,
  ]);
  await pool.query(
    `insert into manager.manager_sessions (sid, sess, expire) values ($1, $2, now() + interval '1 hour')`,
    [
      `sid-${MARK}`,
      JSON.stringify({ cookie: {}, csrfToken: `csrf-${MARK}`, user: { id: 1, name: `operator-${MARK}` } }),
    ],
  );
  await pool.query(
    `insert into manager.tls_certificates (domain, source, cert_pem, key_sealed, not_before, not_after) values ($1, 'acme', $2, $3, now(), now() + interval '90 days')`,
    [`${MARK}.example`, `-----BEGIN CERTIFICATE-----${MARK}`, `sealed-key-${MARK}`],
  );
  await pool.query(
    `insert into manager.acme_accounts (directory_url, email, key_sealed, account_url) values ($1, $2, $3, $4)`,
    [
      `https://acme.${MARK}.example/dir`,
      `ops@${MARK}.example`,
      `sealed-account-${MARK}`,
      `https://acme.${MARK}.example/acct/1`,
    ],
  );
  await pool.query(`insert into manager.acme_challenges (token, key_authorization) values ($1, $2)`, [
    `token-${MARK}`,
    `keyauth-${MARK}`,
  ]);
  await pool.query(`insert into manager.registered_services (url, name, service_type) values ($1, $2, 'input')`, [
    `http://internal-${MARK}.lan:8080`,
    `svc-${MARK}`,
  ]);
  await pool.query(`insert into manager.ddns_state (domain, holder_url, address) values ($1, $2, '198.51.100.77')`, [
    `${MARK}.dy.fi`,
    `https://holder-${MARK}.lan`,
  ]);
  await createRateLimiter(pool, { name: 'login', points: 10, durationS: 60 }).consume(`ip:${MARK}`);
  return [MARK, user.secret, rows[0].user_key_sealed, rows[0].totp_secret_sealed];
}

const countRows = async (c: pg.Client, table: string) =>
  Number((await c.query(`select count(*) from ${table}`)).rows[0].count);

describe("GET /dump carries the map, not the manager's secrets", { skip }, () => {
  let source: TestDatabase;
  let restored: TestDatabase;
  let out: RunningService;
  let pool: Pool;
  let dir: string;
  let secrets: string[];
  let managerTables: string[];

  before(async () => {
    const server = await serverWithPgDump();
    source = await createTestDatabase('dump_secrets', { server });
    restored = await createTestDatabase('dump_secrets_restored', { server, empty: true });
    dir = await mkdtemp(join(tmpdir(), 'hopmap-dump-secrets-'));
    pool = createPool(source.url, quietLog, { max: 2 });
    secrets = await fillManagerTables(pool);
    const { rows } = await pool.query(
      `select table_name from information_schema.tables where table_schema = 'manager' order by 1`,
    );
    managerTables = rows.map((r) => `manager.${r.table_name}`);
    out = await startService(outputService({ ...outputWiring, auth: 'off' }), {
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
      databaseUrl: source.url,
    });
    const batch = [1, 2].map((k) => traceResult(`198.19.${k}.9`, [`198.18.${k}.1`, `198.18.${k}.2`, `198.19.${k}.9`]));
    assert.equal((await postJson(`${out.url}/results`, batch)).status, 200);
  });

  after(async () => {
    await out?.stop();
    await pool?.end();
    await Promise.all([source?.drop(), restored?.drop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('every manager table held a row before the dump', async () => {
    assert.deepEqual(managerTables, [
      'manager.acme_accounts',
      'manager.acme_challenges',
      'manager.api_keys',
      'manager.ddns_state',
      'manager.manager_sessions',
      'manager.rate_limits',
      'manager.registered_services',
      'manager.tls_certificates',
      'manager.users',
    ]);
    for (const table of managerTables)
      assert.ok(Number((await pool.query(`select count(*) from ${table}`)).rows[0].count) > 0, `${table} is empty`);
  });

  it('restored elsewhere, the dump holds the results, hops and links and no manager row, and no secret appears in it', async () => {
    const res = await request(`${out.url}/dump`);
    assert.equal(res.status, 200, res.text);
    const file = join(dir, 'source.dump');
    await writeFile(file, res.body);

    const pgRestore = await findPgTool('pg_restore');
    await run(pgRestore.path, ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${restored.url}`, file]);
    const c = new pg.Client(restored.url);
    await c.connect();
    try {
      for (const table of managerTables) assert.equal(await countRows(c, table), 0, `${table} came along in the dump`);
      assert.equal(await countRows(c, 'measurements.results'), 2);
      assert.ok((await countRows(c, 'hops')) >= 4);
      assert.ok((await countRows(c, 'links')) >= 4);
    } finally {
      await c.end();
    }

    // The archive's table data is compressed: read it as pg_restore writes it out, as well as the raw bytes.
    const script = (await run(pgRestore.path, ['--file=-', file], { maxBuffer: 64 << 20 })).stdout;
    assert.match(script, /198\.18\.1\.2/, 'the map is in the script, so a search of it can find things');
    for (const secret of secrets) {
      assert.ok(!res.body.includes(secret), `the raw dump holds ${secret}`);
      assert.ok(!script.includes(secret), `the restored script holds ${secret}`);
    }
  });
});
