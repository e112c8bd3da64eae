import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { resolveRouters } from '../../src/aliases/resolve-routers.js';
import { createPool } from '../../src/db/create-pool.js';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { RESULT_FORMAT } from '../../src/results/result-schema.js';
import { postJson } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { traceResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';
import { docQueries, sqlBlockCount, withParam } from './doc-queries.js';

const skip = needs('database');

// The doc's example values: worker 'w1', target 198.19.1.1.
const T1 = '198.19.1.1';
const T2 = '198.19.2.1';
const VIA_B = ['198.18.0.2', '198.18.0.6', '198.18.0.10', T1];
const VIA_C = ['198.18.0.2', '198.18.0.14', '198.18.0.18', T1];
const TO_T2 = ['198.18.0.2', '198.18.1.6', '198.18.1.10'];
const T3 = '198.19.3.1';
const MP_BRANCHES = ['198.18.2.5', '198.18.2.9'];
const FACTORY_EPOCH = Date.UTC(2026, 10, 23, 1, 0, 0);
/** A trace measured `agoS` seconds ago. */
const ago = (agoS: number) => Date.now() - agoS * 1000 - FACTORY_EPOCH;

describe('docs/analytics.md: every query runs and answers what it says', { skip }, () => {
  const queries = docQueries('analytics.md');
  let db: TestDatabase;
  let output: RunningService;
  let client: pg.Client;
  let hasAddressInfo = false;
  const run = async (name: string) => {
    const sql = queries.get(name);
    assert.ok(sql, `docs/analytics.md has no query named ${name}`);
    return (await client.query(sql)).rows;
  };

  before(async () => {
    db = await createTestDatabase('analytics_queries');
    output = await startService(outputService({ ...outputWiring, auth: 'off' }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    client = new pg.Client(db.url);
    await client.connect();
    // w1's route to T1 moves from B to C; w2 traces T2, which does not answer; all in the last few minutes.
    const posts = [
      traceResult(T1, VIA_B, { worker: 'w1', atMs: ago(300) }),
      traceResult(T1, VIA_B, { worker: 'w1', atMs: ago(240) }),
      traceResult(T1, VIA_C, { worker: 'w1', atMs: ago(180) }),
      traceResult(T2, TO_T2, { worker: 'w2', atMs: ago(120) }),
    ];
    for (const r of posts) {
      const res = await postJson(`${output.url}/results`, r);
      assert.equal(res.status, 200, res.text);
    }
    // w3 traces T3 with MDA: a multipath result, whose TTLs list `interfaces` instead of `probes`. Its branch
    // addresses are in no other trace and have no AS, so the other queries' answers stay as they were.
    const multipath = {
      format: RESULT_FORMAT,
      id: randomUUID(),
      type: 'multipath',
      worker: 'w3',
      lease: null,
      target: T3,
      started_at: new Date(Date.now() - 60_000).toISOString(),
      finished_at: new Date(Date.now() - 59_000).toISOString(),
      method: 'udp-paris',
      confidence: 0.95,
      reached: true,
      probes_sent: 20,
      hops: [
        { ttl: 1, interfaces: ['198.18.0.2'], flows: 6, silent: 0, rtts_us: { '198.18.0.2': [10] } },
        {
          ttl: 2,
          interfaces: MP_BRANCHES,
          flows: 11,
          silent: 0,
          rtts_us: { [MP_BRANCHES[0]!]: [20], [MP_BRANCHES[1]!]: [21] },
        },
        { ttl: 3, interfaces: [T3], flows: 11, silent: 0, rtts_us: { [T3]: [30] } },
      ],
      links: [...MP_BRANCHES.map((b) => ['198.18.0.2', b]), ...MP_BRANCHES.map((b) => [b, T3])],
    };
    const mp = await postJson(`${output.url}/results`, multipath);
    assert.equal(mp.status, 200, mp.text);
    // An old change (two days ago) that the last-day query must leave out; a busiest link; a link from last week.
    await client.query(
      `insert into paths (hash, hops, reached) values (gen_random_uuid(), '[["192.0.2.1"]]', false), (gen_random_uuid(), '[["192.0.2.2"]]', false)`,
    );
    await client.query(
      `insert into route_changes (worker, target, method, flow, before_span_id, after_span_id, before_path_id, after_path_id, diverge_ttl, before_last_seen_at, after_first_seen_at, result_id)
       select 'w-old', '198.19.9.9', 'icmp-paris', 1, 0, 0, min(id), max(id), 1, now() - interval '3 days', now() - interval '2 days', gen_random_uuid()
         from paths where hops::text like '%192.0.2.%'`,
    );
    await client.query(`insert into links values
      ('203.0.113.1', '203.0.113.2', now() - interval '30 days', now(), 1000000, 10, 90, 50000000),
      ('203.0.113.5', '203.0.113.6', now() - interval '7 days', now() - interval '7 days', 1, 10, 10, 10)`);
    // B's 198.18.0.6 and C's 198.18.0.14 turn out to be one router (a port unreachable from .6 to a probe of .14).
    const alias = {
      format: RESULT_FORMAT,
      id: randomUUID(),
      type: 'alias',
      worker: 'w1',
      lease: null,
      target: T1,
      started_at: new Date().toISOString(),
      finished_at: new Date().toISOString(),
      flow: 1,
      probes_sent: 1,
      record_route: [],
      timestamps: [],
      ipid: [],
      mercator: [{ address: '198.18.0.14', from: '198.18.0.6' }],
    };
    assert.equal((await postJson(`${output.url}/results`, alias)).status, 200);
    const pool = createPool(db.url, quietLog);
    await resolveRouters(pool).finally(() => pool.end());
    hasAddressInfo = (await client.query(`select to_regclass('address_info') is not null as ok`)).rows[0].ok;
    if (hasAddressInfo) {
      // What enrichment makes of this space, as on a lab: benchmarking addresses (198.18.0.0/15), their AS from
      // ranges an operator declared; 198.18.1.6 is in none, so it has no AS.
      await client.query(`insert into address_info (address, kind, asn, as_org, data_version, source) values
        ('198.18.0.2', 'benchmarking', 64500, 'Access Net', 'analytics-test', 'declared'),
        ('198.18.0.6', 'benchmarking', 64501, 'Transit B', 'analytics-test', 'declared'),
        ('198.18.0.10', 'benchmarking', 64501, 'Transit B', 'analytics-test', 'declared'),
        ('198.18.0.14', 'benchmarking', 64503, 'Transit C', 'analytics-test', 'declared'),
        ('198.18.0.18', 'benchmarking', 64503, 'Transit C', 'analytics-test', 'declared'),
        ('198.19.1.1', 'benchmarking', 64502, 'Target Co', 'analytics-test', 'declared'),
        ('198.18.1.6', 'benchmarking', null, null, 'analytics-test', null)`);
    }
  });

  after(async () => {
    await client?.end();
    await output?.stop();
    await db?.drop();
    await assertNoLeaks();
  });

  it('the doc has exactly the queries this test checks, each named', () => {
    assert.equal(sqlBlockCount('analytics.md'), queries.size, 'every sql block of the doc has a <!-- query: name -->');
    assert.deepEqual([...queries.keys()].sort(), [
      'as-adjacencies',
      'busiest-links',
      'busiest-router-links',
      'changed-routes-last-day',
      'links-first-seen-today',
      'path-at-time',
      'router-interfaces',
      'worker-reach',
    ]);
  });

  it('changed-routes-last-day: the route that moved, with its path before and after; not the change of two days ago', async () => {
    const rows = await run('changed-routes-last-day');
    assert.deepEqual(
      rows.map((r) => [r.worker, r.target, r.diverge_ttl]),
      [['w1', T1, 2]],
    );
    assert.deepEqual(
      rows[0].before_hops,
      VIA_B.map((a) => [a]),
    );
    assert.deepEqual(
      rows[0].after_hops,
      VIA_C.map((a) => [a]),
    );
  });

  it('busiest-links: the link crossed most comes first, with its mean RTT step', async () => {
    const rows = await run('busiest-links');
    assert.deepEqual(
      [rows[0].near, rows[0].far, Number(rows[0].count), Number(rows[0].mean_delta_us)],
      ['203.0.113.1', '203.0.113.2', 1_000_000, 50],
    );
    assert.deepEqual(
      [rows[1].near, rows[1].far, Number(rows[1].count)],
      ['198.18.0.2', '198.18.0.6', 2],
      'then the first link of B, traced twice',
    );
  });

  it('as-adjacencies: AS pairs with their links and traces, declared ASes of non-public space included, addresses with no AS left out', async (t) => {
    if (!hasAddressInfo)
      return t.skip('table address_info does not exist yet (hop enrichment creates it): AS queries not checked');
    const rows = await run('as-adjacencies');
    assert.deepEqual(
      rows.map((r) => [Number(r.near_asn), Number(r.far_asn), Number(r.links), Number(r.traces)]),
      [
        [64500, 64501, 1, 2],
        [64501, 64502, 1, 2],
        [64500, 64503, 1, 1],
        [64503, 64502, 1, 1],
      ],
      'B was traced twice, C once; 198.18.1.6 has no AS (before, kind = public left out every declared AS)',
    );
    assert.equal(rows[0].near_org, 'Access Net');
  });

  it('path-at-time: w1 to 198.19.1.1 now is on C, TTL by TTL, with the AS of each hop', async (t) => {
    if (!hasAddressInfo)
      return t.skip(
        "table address_info does not exist yet (hop enrichment creates it): the query reads it for the hops' AS",
      );
    const rows = await run('path-at-time');
    assert.deepEqual(
      rows.map((r) => [Number(r.ttl), r.addresses]),
      VIA_C.map((a, i) => [i + 1, [a]]),
    );
    assert.ok(rows.every((r) => r.reached === true));
    assert.deepEqual(
      rows.map((r) => r.asns?.map(Number)),
      [[64500], [64503], [64503], [64502]],
    );
  });

  it('links-first-seen-today: a link first seen now, not the one of last week nor the month-old busiest', async () => {
    await client.query(`insert into links values ('203.0.113.9', '203.0.113.10', now(), now(), 1, 5, 5, 5)`);
    const rows = (await run('links-first-seen-today')).map((r) => `${r.near}>${r.far}`);
    assert.ok(rows.includes('203.0.113.9>203.0.113.10'), rows.join(' '));
    assert.ok(!rows.includes('203.0.113.5>203.0.113.6') && !rows.includes('203.0.113.1>203.0.113.2'), rows.join(' '));
  });

  it('worker-reach: w1 traced one target and reached it, through 6 distinct addresses', async () => {
    const [row] = await run('worker-reach');
    assert.deepEqual([row.worker, Number(row.targets), Number(row.reached), Number(row.addresses)], ['w1', 1, 1, 6]);
    assert.ok(Date.now() - row.last_traced_at.getTime() < 10 * 60_000);
  });

  it('router-interfaces: 198.18.0.14 is an interface of router 198.18.0.6, with both interfaces, their AS and the method', async () => {
    const rows = await run('router-interfaces');
    assert.deepEqual(
      rows.map((r) => [r.router_id, r.interface, r.methods]),
      [
        ['198.18.0.6', '198.18.0.6', ['mercator']],
        ['198.18.0.6', '198.18.0.14', ['mercator']],
      ],
    );
    if (hasAddressInfo)
      assert.deepEqual(
        rows.map((r) => Number(r.asn)),
        [64501, 64503],
        'a router may carry addresses of two ASes',
      );
  });

  it('busiest-router-links: the busiest link, then the access router into B/C, which gathers two interface links', async () => {
    const rows = await run('busiest-router-links');
    assert.deepEqual(
      [rows[0].near_router, rows[0].far_router, Number(rows[0].traces)],
      ['203.0.113.1', '203.0.113.2', 1_000_000],
    );
    assert.deepEqual(
      [
        rows[1].near_router,
        rows[1].far_router,
        Number(rows[1].interface_links),
        Number(rows[1].traces),
        Number(rows[1].mean_delta_us),
      ],
      ['198.18.0.2', '198.18.0.6', 2, 3, 100],
      '.2>.6 twice and .2>.14 once',
    );
    assert.ok(!rows.some((r) => r.near_router === r.far_router));
  });

  it('result-format.md traces-through-address: single-flow and multipath traces through an address, with the TTL', async () => {
    const sql = docQueries('result-format.md').get('traces-through-address');
    assert.ok(sql, 'docs/result-format.md has no query named traces-through-address');
    const through = async (address: string) =>
      (await client.query(withParam(sql, 'address', address))).rows.map(
        (r) => `${r.worker} ${r.target} ${r.type} ttl ${r.ttl}`,
      );
    assert.deepEqual(
      (await through('198.18.0.2')).sort(),
      [
        `w1 ${T1} traceroute ttl 1`,
        `w1 ${T1} traceroute ttl 1`,
        `w1 ${T1} traceroute ttl 1`,
        `w2 ${T2} traceroute ttl 1`,
        `w3 ${T3} multipath ttl 1`,
      ],
      'the first hop of every trace, the multipath one too',
    );
    assert.deepEqual(
      await through(MP_BRANCHES[1]!),
      [`w3 ${T3} multipath ttl 2`],
      'a branch only the multipath trace saw',
    );
    assert.deepEqual(await through('198.51.100.7'), [], 'an address no trace crossed');
  });
});
