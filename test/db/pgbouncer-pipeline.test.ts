import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { freePort } from '../../src/http/free-port.js';
import { BIN_PATH } from '../../src/version.js';
import { Browser, codeFor, logIn } from '../manager/manager-browser.js';
import { pollUntil, postJson, request } from '../support/http-client.js';
import { fetchBatch, writeTargetDir } from '../support/input-fixture.js';
import { testKey, workerKeys } from '../support/keys.js';
import { assertNoLeaks } from '../support/leaks.js';
import { startPgBouncer, type RunningPgBouncer } from '../support/pgbouncer.js';
import { traceResult } from '../support/result-factory.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { until } from '../support/until.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'pgbouncer');

/** Server connections PgBouncer may open for the test database, shared by every service. */
const POOL_SIZE = 3;

describe('the pipeline through PgBouncer in transaction mode', { skip }, () => {
  const serverKey = randomBytes(32).toString('base64');
  let db: TestDatabase;
  let bouncer: RunningPgBouncer;
  let direct: pg.Client;
  let dir: string;
  const procs: Spawned[] = [];
  const urls: Record<'input' | 'output' | 'manager', string> = { input: '', output: '', manager: '' };

  /** What each process is given: the pooler for its work, the server itself for what needs a session. */
  const env = (overrides: Record<string, string | undefined> = {}) => ({
    DATABASE_URL: bouncer.url(db.name),
    DATABASE_DIRECT_URL: db.url,
    HOPMAP_DATABASE_URL: undefined,
    HOPMAP_DATABASE_DIRECT_URL: undefined,
    SERVER_KEY: serverKey,
    HOPMAP_SERVER_KEY: undefined,
    LOG_LEVEL: 'warn',
    ...overrides,
  });

  /** Runs a command to its end; one still running after `timeoutMs` (a hang) is killed and reported as such. */
  async function hopmap(
    args: string[],
    overrides: Record<string, string | undefined> = {},
    timeoutMs = 120_000,
  ): Promise<{ code: number | null; output: string }> {
    const child = spawnNode([BIN_PATH, ...args], env(overrides));
    procs.push(child);
    const timer = setTimeout(() => child.child.kill('SIGKILL'), timeoutMs);
    const { code } = await child.exited;
    clearTimeout(timer);
    return { code, output: child.output() };
  }

  async function startService(
    command: 'input' | 'output' | 'manager',
    args: string[],
    port: number,
    overrides: Record<string, string> = {},
  ): Promise<string> {
    const proc = spawnNode([BIN_PATH, command, '--host', '127.0.0.1', '--port', String(port), ...args], env(overrides));
    procs.push(proc);
    const url = `http://127.0.0.1:${port}`;
    assert.equal(
      (await pollUntil(`${url}/ready`, (r) => r.status === 200, 300_000).catch(() => ({ status: 0 }))).status,
      200,
      `${command}:\n${proc.output()}`,
    );
    return url;
  }

  before(async () => {
    db = await createTestDatabase('pgbouncer_pipeline');
    bouncer = await startPgBouncer({ serverUrl: db.adminUrl, poolSize: POOL_SIZE });
    direct = new pg.Client(db.url);
    await direct.connect();
    dir = writeTargetDir({ 'blocks.txt': '20.0.0.0/28\n' });
  });

  after(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await direct?.end();
    await bouncer?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('imports targets through the pooler (migrating over the direct URL)', async () => {
    const { code, output } = await hopmap(['targets', 'import', dir]);
    assert.equal(code, 0, output);
    assert.match(output, /1 blocks loaded, 16 addresses/);
  });

  it('starts input, output and manager as processes on the pooler', async () => {
    const inputPort = await freePort();
    const feeder = { HOPMAP_INPUT_KEY: await testKey(db.url, 'feeder', 'output') };
    [urls.input, urls.output, urls.manager] = await Promise.all([
      startService('input', ['--lease-ttl', '5m'], inputPort),
      startService(
        'output',
        ['--health-port', '0', '--input-url', `http://127.0.0.1:${inputPort}`, '--retention-days', '30'],
        await freePort(),
        feeder,
      ),
      startService('manager', ['--tls', 'off'], await freePort()),
    ]);
  });

  it('leases targets over HTTP, stores the results posted for them, closes the lease, extracts links and feeds the hops back', async () => {
    const keys = await workerKeys(db.url, ['w1', 'w2']);
    const batch = await fetchBatch(urls.input, 'w1', 16, keys.get('w1'));
    assert.equal(batch.targets.length, 16);
    assert.ok(batch.lease);
    const path = ['31.9.0.1', '31.9.1.1'];
    const results = batch.targets.map((t) => traceResult(t, [...path, t], { lease: batch.lease, worker: 'w1' }));
    // Four batches at once, so the services' pools need more clients than PgBouncer has server connections.
    const answers = await Promise.all(
      [0, 1, 2, 3].map((i) => postJson(`${urls.output}/results`, results.slice(i * 4, i * 4 + 4), keys.get('w1'))),
    );
    for (const a of answers) assert.equal(a.status, 200, a.text);

    const stored = await direct.query<{ n: number }>('select count(*)::int as n from measurements.results');
    assert.equal(stored.rows[0]!.n, 16);
    const lease = await direct.query<{ state: string }>('select state from leases where id = $1', [batch.lease]);
    assert.equal(lease.rows[0]?.state, 'done', 'every target of the lease has its result');
    const links = await direct.query<{ near: string; far: string }>(
      `select host(near) as near, host(far) as far from links where near = '31.9.0.1'::inet`,
    );
    assert.deepEqual(links.rows, [{ near: '31.9.0.1', far: '31.9.1.1' }]);
    const toTargets = await direct.query<{ n: number }>(
      `select count(*)::int as n from links where near = '31.9.1.1'::inet`,
    );
    assert.equal(toTargets.rows[0]!.n, 16, 'a link from the last router to each target');

    // A consumer that has not been served yet gets the new hops as targets.
    const fresh = await fetchBatch(urls.input, 'w2', 20, keys.get('w2'));
    for (const hop of path)
      assert.ok(fresh.targets.includes(hop), `hop ${hop} fed back as a target: ${fresh.targets.join(' ')}`);
  });

  it("runs graphile-worker's jobs: rotation enqueued through the pooler retires an old partition", async () => {
    await direct.query(`select measurements.ensure_partition('2020-01-01'::date)`);
    const pooled = new pg.Client(bouncer.url(db.name));
    await pooled.connect();
    try {
      await pooled.query(`select graphile_worker.add_job('rotate_results', '{}'::json)`);
    } finally {
      await pooled.end();
    }
    await until(
      'results_20200101 retired by the rotate_results job',
      async () => {
        const { rows } = await direct.query<{ n: number }>(
          `select count(*)::int as n from pg_class where relname = 'results_20200101'`,
        );
        return rows[0]!.n === 0 ? true : undefined;
      },
      { timeoutMs: 60_000, everyMs: 200 },
    );
    const failed = await direct.query<{ n: number }>(
      'select count(*)::int as n from graphile_worker._private_jobs where last_error is not null',
    );
    assert.equal(failed.rows[0]!.n, 0, 'no job failed');
  });

  it('logs in to the manager: user added by the CLI, sessions and rate limits kept through the pooler', async () => {
    const added = await hopmap(['user', 'add', 'alice']);
    assert.equal(added.code, 0, added.output);
    const secret = /secret=([A-Z2-7]+)/.exec(added.output)?.[1];
    assert.ok(secret, added.output);
    const br = new Browser('203.0.113.9');
    assert.equal((await logIn(br, urls.manager, urls.manager, 'alice', await codeFor(secret))).status, 303);
    // Each /api request goes through the Postgres-backed rate limiter, which asks for named prepared statements.
    const me = await Promise.all(Array.from({ length: 12 }, () => br.get(`${urls.manager}/api/me`)));
    assert.deepEqual(
      me.map((r) => r.status),
      Array(12).fill(200),
      me.map((r) => r.text).join('\n'),
    );
  });

  it('went through PgBouncer: every service is its client, sharing at most the configured server connections', async () => {
    // Each /ready queries the service's pool, so each has a client open now (idle ones close after 30 s).
    for (const url of Object.values(urls)) assert.equal((await request(`${url}/ready`)).status, 200);
    const clients = await bouncer.admin<{ database: string; application_name: string }>('SHOW CLIENTS');
    const apps = new Set(clients.filter((c) => c.database === db.name).map((c) => c.application_name));
    for (const app of ['hopmap-input', 'hopmap-output', 'hopmap-manager'])
      assert.ok(apps.has(app), `${app} among PgBouncer's clients: ${[...apps].join(', ')}`);
    const servers = (await bouncer.admin<{ database: string }>('SHOW SERVERS')).filter((s) => s.database === db.name);
    assert.ok(servers.length <= POOL_SIZE, `${servers.length} server connections`);
    const pools = (await bouncer.admin<{ database: string; pool_mode: string }>('SHOW POOLS')).filter(
      (p) => p.database === db.name,
    );
    assert.deepEqual(
      pools.map((p) => p.pool_mode),
      ['transaction'],
    );
    // SHOW STATS totals are refreshed every stats_period (1 s in the test's ini).
    await until(
      "PgBouncer's count of the test's transactions",
      async () => {
        const row = (await bouncer.admin<{ database: string; total_xact_count: string }>('SHOW STATS')).find(
          (s) => s.database === db.name,
        );
        return row && Number(row.total_xact_count) >= 50 ? row : undefined;
      },
      { timeoutMs: 15_000, everyMs: 250 },
    );
    // Only graphile-worker (and the migrator, now gone) reach the server directly.
    const directApps = await direct.query<{ app: string }>(
      `select distinct application_name as app from pg_stat_activity where datname = current_database() and application_name like 'hopmap-%-jobs' order by 1`,
    );
    assert.deepEqual(
      directApps.rows.map((r) => r.app),
      ['hopmap-input-jobs', 'hopmap-manager-jobs', 'hopmap-output-jobs'],
    );
  });

  it('without DATABASE_DIRECT_URL, a service on the pooler stops at start with an error naming it, migrating or not', async () => {
    const variants = [[], ['--no-migrate']];
    const runs = await Promise.all(
      variants.map(async (args) =>
        hopmap(['input', '--host', '127.0.0.1', '--port', String(await freePort()), ...args], {
          DATABASE_DIRECT_URL: undefined,
        }),
      ),
    );
    runs.forEach(({ code, output }, i) => {
      assert.equal(code, 2, output);
      assert.match(output, /^hopmap: .* needs one: set DATABASE_DIRECT_URL/m);
      assert.match(output, variants[i]!.length ? /graphile-worker/ : /the migrator/);
    });
  });
});
