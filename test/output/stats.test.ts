import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { rewindResultsPerMinute, rollUpResultsPerMinute } from '../../src/results/results-per-minute.js';
import { rotateResults } from '../../src/results/rotate-results.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { postJson, request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { traceResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

interface HourRow {
  hour: string;
  type: string;
  results: number;
}

/**
 * Rows received `minutesAgo` minutes (plus `seconds`) before the current minute began, as the bench's seeding
 * inserts them: straight into measurements.results with an explicit received_at.
 */
const seedSql = `
  insert into measurements.results (id, received_at, measured_at, type, worker, target, lease, body)
  select gen_random_uuid(), at, at, $3, 'w1', '20.0.0.1', null, '{}'::jsonb
    from (select date_trunc('minute', now()) - make_interval(mins => $1::int) + make_interval(secs => $4::float8) as at) a, generate_series(1, $2::int)`;

describe('GET /stats', { skip }, () => {
  let db: TestDatabase;
  let client: pg.Client;
  let pool: pg.Pool;
  let svc: RunningService;

  before(async () => {
    db = await createTestDatabase('stats');
    client = new pg.Client(db.url);
    await client.connect();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await client.query(`select measurements.ensure_partition(((now() at time zone 'UTC') - interval '1 day')::date)`);
    // Several minutes over several hours and two types; 40 minutes ago on the minute's first instant (a range
    // boundary below), 25 hours ago outside the window.
    const seeds: Array<[number, number, string, number]> = [
      [5, 3, 'ping', 10],
      [6, 2, 'traceroute', 59.5],
      [7, 4, 'ping', 0],
      [40, 5, 'ping', 0],
      [40, 1, 'traceroute', 30],
      [61, 2, 'ping', 1],
      [62, 6, 'traceroute', 45],
      [125, 7, 'ping', 20],
      [600, 3, 'ping', 5],
      [1430, 2, 'traceroute', 15],
      [1500, 9, 'ping', 0],
    ];
    for (const s of seeds) await client.query(seedSql, s);
    svc = await startService(outputService({ ...outputWiring, auth: 'off' }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
  });

  after(async () => {
    await svc?.stop();
    await pool?.end();
    await client?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  const stats = async () => (await request(`${svc.url}/stats`)).json();
  /** What /stats answered before results_per_minute: every result of the last 24 hours grouped live. */
  const direct = async (): Promise<HourRow[]> =>
    JSON.parse(
      JSON.stringify(
        (
          await client.query(
            `select date_trunc('hour', received_at) as hour, type, count(*)::int as results
             from measurements.results where received_at > now() - interval '24 hours' group by 1, 2 order by 1 desc, 2`,
          )
        ).rows,
      ),
    );
  /** results_per_minute beside a live count of the same whole minutes, from the window's first whole one to the last rolled up. */
  const perMinute = async () => {
    const q = (sql: string) =>
      client
        .query<{ minute: string; type: string; n: number }>(`${sql} order by 1, 2`)
        .then((r) => r.rows.map((x) => `${x.minute} ${x.type} ${x.n}`));
    const [lo, hi] = [
      `date_trunc('minute', now() - interval '24 hours') + interval '1 minute'`,
      '(select rolled_up_to from results_per_minute_state)',
    ];
    return {
      stored: await q(
        `select minute::text, type, results as n from results_per_minute where minute >= ${lo} and minute < ${hi}`,
      ),
      live: await q(`select date_trunc('minute', received_at)::text as minute, type, count(*)::int as n from measurements.results
                      where received_at >= ${lo} and received_at < ${hi} group by 1, 2`),
    };
  };
  const total = (rows: HourRow[]) => rows.reduce((n, r) => n + r.results, 0);

  it('gives the same results_by_hour before and after the rollup, and counts what came after it live', async () => {
    const before = await stats();
    assert.deepEqual(before.results_by_hour, await direct());
    assert.equal(total(before.results_by_hour), 35, 'every seeded result but the 25-hour-old ones');

    await rollUpResultsPerMinute(pool);
    // The current minute less 3 (less 4 if a minute began meanwhile and the cron task has not run yet).
    const rolled = await client.query<{ ok: boolean }>(
      `select rolled_up_to between date_trunc('minute', now() - interval '4 minutes') and date_trunc('minute', now() - interval '3 minutes') as ok from results_per_minute_state`,
    );
    assert.ok(rolled.rows[0]!.ok, 'rolled up to 3 minutes before the current minute');
    const pm = await perMinute();
    assert.ok(pm.stored.length >= 8, pm.stored.join('\n'));
    assert.deepEqual(pm.stored, pm.live);
    assert.deepEqual((await stats()).results_by_hour, await direct());

    // Received after the rollup (this minute, and the minute 5 minutes ago that a later run will close): live.
    await client.query(seedSql, [0, 4, 'ping', 0]);
    await client.query(`insert into measurements.results (id, received_at, measured_at, type, worker, target, lease, body)
                        select gen_random_uuid(), now(), now(), 'traceroute', 'w1', '20.0.0.1', null, '{}' from generate_series(1, 3)`);
    const later = await stats();
    assert.deepEqual(later.results_by_hour, await direct());
    assert.equal(total(later.results_by_hour), 42);
  });

  it('is idempotent: running the rollup again, or recounting minutes already counted, counts nothing twice', async () => {
    await rollUpResultsPerMinute(pool);
    await rollUpResultsPerMinute(pool);
    let pm = await perMinute();
    assert.deepEqual(pm.stored, pm.live);
    assert.deepEqual((await stats()).results_by_hour, await direct());

    // A merge stores results received 40 minutes ago (the minute's first instant) and rewinds: live until recounted.
    await client.query(seedSql, [40, 2, 'ping', 0]);
    await rewindResultsPerMinute(
      pool,
      (await client.query<{ at: string }>(`select (date_trunc('minute', now()) - interval '40 minutes')::text as at`))
        .rows[0]!.at,
    );
    assert.deepEqual((await stats()).results_by_hour, await direct(), 'counted live after the rewind');
    await rollUpResultsPerMinute(pool);
    pm = await perMinute();
    assert.deepEqual(pm.stored, pm.live);
    const s = await stats();
    assert.deepEqual(s.results_by_hour, await direct());
    assert.equal(total(s.results_by_hour), 44);
  });

  it('sums results_per_minute for the rolled-up minutes rather than reading the results', async () => {
    await rollUpResultsPerMinute(pool);
    const before = total((await stats()).results_by_hour);
    await client.query(
      `update results_per_minute set results = results + 100 where minute = date_trunc('minute', now()) - interval '125 minutes'`,
    );
    assert.equal(total((await stats()).results_by_hour), before + 100);
    await client.query(
      `update results_per_minute set results = results - 100 where minute = date_trunc('minute', now()) - interval '125 minutes'`,
    );
  });

  it('forgets the minutes of partitions rotation retires (after the tests that count the seeded results it drops)', async () => {
    await rollUpResultsPerMinute(pool);
    const out = await rotateResults(pool, { keep: 1 }, quietLog);
    assert.ok(out.retired.length >= 1, 'yesterday retired (it holds the results of 23 hours 50 minutes ago)');
    const s = await stats();
    assert.deepEqual(s.results_by_hour, await direct());
    assert.ok(total(s.results_by_hour) < 44);
  });

  it('counts small tables exactly and says when a count is an estimate', async () => {
    const ingest = await postJson(`${svc.url}/results`, [
      traceResult('20.9.0.9', ['10.0.0.1', '20.1.0.1', '20.9.0.9']),
      traceResult('20.9.0.8', ['10.0.0.1', '20.1.0.2', '20.9.0.8']),
    ]);
    assert.equal(ingest.status, 200);
    await client.query('analyze hops, links, result_ids'); // so the planner's figures exist and the size alone decides
    const exact = (
      await client.query(
        `select (select count(*) from hops)::int as hops, (select count(*) from links)::int as links, (select count(*) from result_ids)::int as results`,
      )
    ).rows[0];
    const small = await stats();
    assert.ok(exact.links >= 2 && exact.results === 2, JSON.stringify(exact));
    assert.deepEqual(small.known, exact);
    assert.deepEqual(small.known_estimated, { hops: false, links: false, results: false });

    await client.query(
      `insert into result_ids (id, received_at) select gen_random_uuid(), now() from generate_series(1, 150000)`,
    );
    await client.query('analyze result_ids');
    const big = await stats();
    assert.equal(big.known_estimated.results, true);
    assert.ok(Math.abs(big.known.results - 150_002) < 15_000, `estimate ${big.known.results} for 150,002`);
    assert.deepEqual({ hops: big.known.hops, links: big.known.links }, { hops: exact.hops, links: exact.links });
  });
});
