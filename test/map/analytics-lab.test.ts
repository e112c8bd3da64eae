import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { resolveRouters } from '../../src/aliases/resolve-routers.js';
import type { LabRun } from '../../src/lab/lab-run.js';
import type { HopSequence } from '../../src/lab/lab-truth.js';
import { enrichPendingHops } from '../../src/map/enrich/enrich-hops-task.js';
import { asGraph } from '../../src/map/graph/as-graph.js';
import {
  asHops,
  cutLinkUnderRoute,
  drillPlace,
  removeDrill,
  ROUTE_CHANGE,
  startDrill,
  type DrillPlace,
} from '../lab/lab-drill.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';
import { docQueries, sqlBlockCount, withParam } from './doc-queries.js';

const skip = needs('database', 'root', 'ip');

type Row = Record<string, unknown>;
const { vantage: VANTAGE, target: TARGET } = ROUTE_CHANGE;

/**
 * The docs' ready queries as a newcomer pastes them into psql, on the database of a real lab run: the 30-router
 * internet of lab/internet.yaml mapped by the whole system, with one link cut so that a route changes. Only the
 * `params` lines are edited, to the lab's worker, target and addresses. Each query must answer rows, and where the
 * lab's design says what they must be, the right ones.
 */
describe('docs/analytics.md and result-format.md: the queries answer on a lab run', { skip }, () => {
  const analytics = docQueries('analytics.md');
  const results = docQueries('result-format.md');
  let db: TestDatabase;
  let place: DrillPlace;
  let run: LabRun | undefined;
  let client: pg.Client;
  let truthBefore: HopSequence;
  let truthAfter: HopSequence;
  /** Adjacent lab nodes, both ways: `a|b`. */
  const adjacent = new Set<string>();
  let nodeOf: (address: string) => string | undefined;
  let asOf: (node: string) => number;

  const query = async (sql: string) => (await client.query<Row>(sql)).rows;
  const doc = (queries: Map<string, string>, name: string) => {
    const sql = queries.get(name);
    assert.ok(sql, `no query named ${name}`);
    return sql;
  };
  /** `near` and `far` belong to two nodes that a link of the lab joins (a link never joins one to itself). */
  const assertTrueLink = (near: unknown, far: unknown, what: string) => {
    const a = nodeOf(String(near));
    const b = nodeOf(String(far));
    assert.ok(
      a && b && adjacent.has(`${a}|${b}`),
      `${what}: ${String(near)} (${a}) > ${String(far)} (${b}) is no lab link`,
    );
  };

  before(async () => {
    place = await drillPlace('tlabsql');
    db = await createTestDatabase('analytics_lab');
    run = await startDrill(place, { serverUrl: db.adminUrl, database: db.name });
    // v2's route to t2 moves to another path: the route change queries have one to find.
    ({ truthBefore, truthAfter } = await cutLinkUnderRoute(run));
    await run.waitForConvergence({ timeoutMs: 6 * 60_000 });
    // What the output's enrich_hops and resolve_routers jobs do within a minute, done now.
    await enrichPendingHops(run.pool, { maxBatches: Number.MAX_SAFE_INTEGER });
    await resolveRouters(run.pool);

    const truth = run.lab.truth();
    for (const l of truth.trueLinks()) adjacent.add(`${l.a}|${l.b}`).add(`${l.b}|${l.a}`);
    nodeOf = (address) => truth.nodeOf(address);
    const plan = run.lab.plan;
    asOf = (node) => plan.nodes.get(node)!.as!;
    client = new pg.Client(run.databaseUrl);
    await client.connect();
  });

  after(async () => {
    await client?.end();
    await removeDrill(place, run);
    await db?.drop();
    await assertNoLeaks();
  });

  it('every sql block of both pages is named, and this test runs each', () => {
    assert.equal(sqlBlockCount('analytics.md'), analytics.size);
    assert.equal(sqlBlockCount('result-format.md'), results.size);
    assert.deepEqual([...analytics.keys(), ...results.keys()].sort(), [
      'as-adjacencies',
      'busiest-links',
      'busiest-router-links',
      'changed-routes-last-day',
      'links-first-seen-today',
      'links-mean-step',
      'path-at-time',
      'router-interfaces',
      'routes-changed-last-day',
      'traces-through-address',
      'worker-reach',
    ]);
  });

  it('changed-routes-last-day: the route the cut moved, from its true path before to the one after', async () => {
    const rows = await query(doc(analytics, 'changed-routes-last-day'));
    const moved = rows.filter((r) => r.worker === VANTAGE && r.target === TARGET);
    assert.ok(moved.length >= 1, JSON.stringify(rows));
    assert.deepEqual(moved.at(-1)!.before_hops, asHops(truthBefore), 'the oldest change starts on the old path');
    assert.deepEqual(moved[0]!.after_hops, asHops(truthAfter), 'the newest ends on the new path');
    assert.equal(moved[0]!.flow, -1, 'a multipath route');
  });

  it('busiest-links: 20 links, each a true link of the lab', async () => {
    const rows = await query(doc(analytics, 'busiest-links'));
    assert.equal(rows.length, 20);
    for (const r of rows) assertTrueLink(r.near, r.far, 'busiest-links');
    assert.ok(Number(rows[0]!.count) >= Number(rows[19]!.count));
  });

  it('as-adjacencies: the AS graph of the map API, between ASes the lab joins, named as declared', async () => {
    const rows = await query(doc(analytics, 'as-adjacencies'));
    assert.ok(rows.length >= 4, `the lab's four ASes are joined: ${JSON.stringify(rows)}`);
    const pairs = rows.map((r) => `${String(r.near_asn)}>${String(r.far_asn)}`).sort();
    const graph = await asGraph(run!.pool, {});
    assert.deepEqual(pairs, graph.links.map((l) => `${l.near_asn}>${l.far_asn}`).sort(), 'the same as level=as');
    // Each adjacency is made of true links between nodes of those two ASes.
    const { rows: designed } = await client.query<{ near: string; far: string }>(
      `select host(near) as near, host(far) as far from links`,
    );
    const designPairs = new Set<string>();
    for (const l of designed) {
      const a = nodeOf(l.near);
      const b = nodeOf(l.far);
      if (a && b && adjacent.has(`${a}|${b}`) && asOf(a) !== asOf(b)) designPairs.add(`${asOf(a)}>${asOf(b)}`);
    }
    assert.deepEqual(pairs, [...designPairs].sort(), 'exactly the AS pairs the true links of the map join');
    for (const r of rows) {
      assert.equal(r.near_org, `lab AS${String(r.near_asn)}`);
      assert.equal(r.far_org, `lab AS${String(r.far_asn)}`);
      assert.ok(Number(r.links) > 0 && Number(r.traces) >= Number(r.links));
    }
  });

  it('path-at-time: v2 to t2 now is on the true path after the cut, TTL by TTL, each hop with its AS', async () => {
    const sql = withParam(withParam(doc(analytics, 'path-at-time'), 'worker', VANTAGE), 'target', TARGET);
    const rows = await query(sql);
    assert.deepEqual(
      rows.map((r) => r.addresses),
      asHops(truthAfter),
    );
    assert.ok(rows.every((r) => r.method === 'udp-paris' && r.flow === -1 && r.reached === true));
    // Enrichment looks up the hops fed back as targets: the routers on the way. The target itself has an AS only
    // if it also answered as a hop of some trace ("where known").
    const asns = rows.map((r) => (r.asns as string[] | null)?.map(Number) ?? null);
    assert.deepEqual(
      asns.slice(0, -1),
      truthAfter.slice(0, -1).map((a) => (a === null ? null : [asOf(nodeOf(a)!)])),
    );
    assert.ok([null, [asOf(nodeOf(TARGET)!)]].some((x) => JSON.stringify(x) === JSON.stringify(asns.at(-1))));
  });

  it('links-first-seen-today: links of this run, each a true link', async (t) => {
    const { rows: today } = await client.query<{ ok: boolean }>(
      `select $1::timestamptz >= date_trunc('day', now()) as ok`,
      [new Date(run!.startedAt)],
    );
    if (!today[0]!.ok) return t.skip('the run began yesterday (in the session time zone)');
    const rows = await query(doc(analytics, 'links-first-seen-today'));
    const { rows: all } = await client.query<{ n: number }>('select count(*)::int as n from links');
    assert.equal(rows.length, all[0]!.n, 'every link of the run was first seen today');
    for (const r of rows) assertTrueLink(r.near, r.far, 'links-first-seen-today');
  });

  it('worker-reach: v1 traced every bootstrap target and more, and reached them', async () => {
    const [row] = await query(withParam(doc(analytics, 'worker-reach'), 'worker', 'v1'));
    assert.ok(row);
    assert.equal(row.worker, 'v1');
    const { rows: traced } = await client.query<{ n: number }>(
      `select count(distinct target)::int as n from measurements.results where worker = 'v1' and type = 'multipath'`,
    );
    assert.equal(Number(row.targets), traced[0]!.n, 'one count per target v1 traced');
    assert.ok(Number(row.targets) >= run!.seeds.length, `${String(row.targets)} targets`);
    assert.ok(Number(row.reached) > 0 && Number(row.reached) <= Number(row.targets));
    assert.ok(Number(row.addresses) > 10);
    assert.ok(Date.now() - (row.last_traced_at as Date).getTime() < 10 * 60_000);
  });

  it('router-interfaces: a router alias resolution found, its interfaces all of one lab node, with its AS', async () => {
    const { rows: resolved } = await client.query<{ address: string }>(
      `select host(address) as address from router_interfaces where address <> router_id order by address limit 1`,
    );
    assert.ok(resolved[0], 'alias resolution joined interfaces into routers');
    const rows = await query(withParam(doc(analytics, 'router-interfaces'), 'address', resolved[0].address));
    assert.ok(rows.length >= 2, JSON.stringify(rows));
    const nodes = new Set(rows.map((r) => nodeOf(String(r.interface))));
    assert.equal(nodes.size, 1, `one router is one lab node: ${JSON.stringify(rows)}`);
    const [node] = [...nodes];
    assert.ok(node);
    assert.equal(new Set(rows.map((r) => r.router_id)).size, 1);
    assert.equal(rows[0]!.router_id, rows[0]!.interface, 'the id is the smallest interface address');
    // An interface known only from alias measurements (never a hop) is not enriched: no AS, "where known".
    const withAs = rows.filter((r) => r.asn !== null);
    assert.ok(withAs.length > 0, `some interface answered as a hop and has an AS: ${JSON.stringify(rows)}`);
    for (const r of withAs) assert.equal(Number(r.asn), asOf(node), `${String(r.interface)} has its node's AS`);
    for (const r of rows)
      assert.ok(Array.isArray(r.methods) && r.methods.length > 0, `${String(r.interface)} is tied by a method`);
  });

  it('busiest-router-links: router links between two adjacent lab nodes, none inside one', async () => {
    const rows = await query(doc(analytics, 'busiest-router-links'));
    assert.equal(rows.length, 20);
    for (const r of rows) {
      assert.notEqual(r.near_router, r.far_router);
      assertTrueLink(r.near_router, r.far_router, 'busiest-router-links');
    }
  });

  it('traces-through-address (result-format.md): the multipath traces through a hop of the new path', async () => {
    const ttl = truthAfter.findIndex((a, i) => a !== null && i > 0 && i < truthAfter.length - 1) + 1;
    assert.ok(ttl > 1, `a router address on ${JSON.stringify(truthAfter)}`);
    const address = truthAfter[ttl - 1]!;
    const rows = await query(withParam(doc(results, 'traces-through-address'), 'address', address));
    assert.ok(rows.length > 0, `no trace through ${address}`);
    assert.ok(
      rows.every((r) => r.type === 'multipath'),
      'a lab run makes only multipath traces: the query must read them',
    );
    assert.ok(
      rows.some((r) => r.worker === VANTAGE && r.target === TARGET && r.ttl === ttl),
      `v2's traces to t2 after the cut cross ${address} at TTL ${ttl}: ${JSON.stringify(rows.slice(0, 5))}`,
    );
  });

  it('links-mean-step and routes-changed-last-day (result-format.md): true links; the route that moved', async () => {
    const links = await query(doc(results, 'links-mean-step'));
    assert.equal(links.length, 20);
    for (const r of links) assertTrueLink(r.near, r.far, 'links-mean-step');
    const changes = await query(doc(results, 'routes-changed-last-day'));
    assert.ok(
      changes.some((r) => r.worker === VANTAGE),
      JSON.stringify(changes),
    );
  });
});
