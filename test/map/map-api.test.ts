import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import pg from 'pg';
import { mapPlugin } from '../../src/map/api/map-plugin.js';
import { managerService } from '../../src/manager/manager-service.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { postJson, request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { traceResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { Browser, codeFor, logIn } from '../manager/manager-browser.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const MIN = 60_000;
const T1 = '198.19.1.1';
const T2 = '198.19.2.1';
const VIA_B = ['198.18.0.2', '198.18.0.6', '198.18.0.10', T1];
const VIA_C = ['198.18.0.2', '198.18.0.14', '198.18.0.18', T1];
const TO_T2 = ['198.18.0.2', '198.18.1.6', T2];
const at = (ms: number) => new Date(Date.UTC(2026, 10, 23, 1, 0, 0) + ms).toISOString();

interface Link {
  near: string;
  far: string;
  count: number;
  first_seen_at: string;
  last_seen_at: string;
  delta_min_us: number;
  delta_max_us: number;
  delta_mean_us: number;
}

describe('map API: /api/map/graph, /path and /changes in the manager', { skip }, () => {
  const serverKey = randomBytes(32);
  let db: TestDatabase;
  let manager: RunningService;
  let output: RunningService;
  let client: pg.Client;
  let hasAddressInfo = false;
  const br = new Browser('198.51.100.20');
  const get = async (path: string) => br.get(`${manager.url}${path}`);
  const ok = async (path: string) => {
    const res = await get(path);
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    return res;
  };

  before(async () => {
    db = await createTestDatabase('map_api');
    output = await startService(outputService({ ...outputWiring, auth: 'off' }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    manager = await startService(managerService({ serverKey, plugins: [mapPlugin] }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    client = new pg.Client(db.url);
    await client.connect();
    // w1's route to T1 moves from B to C at minute 2; w2 traces T2 once.
    const posts = [
      traceResult(T1, VIA_B, { worker: 'w1', atMs: 0 }),
      traceResult(T1, VIA_B, { worker: 'w1', atMs: MIN }),
      traceResult(T1, VIA_C, { worker: 'w1', atMs: 2 * MIN }),
      traceResult(T1, VIA_B, { worker: 'w1', atMs: 3 * MIN }),
      traceResult(T2, TO_T2, { worker: 'w2', atMs: 0 }),
    ];
    for (const r of posts) assert.equal((await postJson(`${output.url}/results`, r)).status, 200);
    hasAddressInfo = (await client.query(`select to_regclass('address_info') is not null as ok`)).rows[0].ok;
    const alice = await addUser(manager.pool, serverKey, 'alice');
    assert.equal((await logIn(br, manager.url, manager.url, 'alice', await codeFor(alice.secret))).status, 303);
  });

  after(async () => {
    await client?.end();
    await manager?.stop();
    await output?.stop();
    await db?.drop();
    await assertNoLeaks();
  });

  it('answers 401 in the one error shape without a session', async () => {
    for (const path of ['/api/map/graph', `/api/map/path?worker=w1&target=${T1}`, '/api/map/changes']) {
      const res = await request(`${manager.url}${path}`, { headers: { 'x-forwarded-for': '198.51.100.21' } });
      assert.equal(res.status, 401, path);
      assert.equal(res.json().error.code, 'unauthenticated');
    }
  });

  it('pages through the interface graph by cursor: every link once, in (near, far) order, with its figures', async () => {
    const { rows: all } = await client.query(
      `select host(near) as near, host(far) as far, count::int from links l order by l.near, l.far`,
    );
    assert.equal(all.length, 8, 'via B 3 links, via C 3, to T2 2');
    const seen: Link[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const body: {
        links: Link[];
        nodes: Array<{ address: string; count: number; degree: number }>;
        next: string | null;
      } = (await ok(`/api/map/graph?limit=3${cursor ? `&cursor=${cursor}` : ''}`)).json();
      pages++;
      const ends = new Set(body.links.flatMap((l) => [l.near, l.far]));
      assert.deepEqual(
        new Set(body.nodes.map((n) => n.address)),
        ends,
        'the nodes of a page are the ends of its links',
      );
      seen.push(...body.links);
      cursor = body.next;
    }
    assert.equal(pages, 3, '3 + 3 + 2');
    assert.deepEqual(
      seen.map((l) => [l.near, l.far]),
      all.map((r) => [r.near, r.far]),
    );
    const first = seen.find((l) => l.near === '198.18.0.2' && l.far === '198.18.0.6')!;
    assert.equal(first.count, 3, 'traced at minutes 0, 1 and 3');
    assert.equal(first.delta_mean_us, 100, 'the factory answers 100 µs more per TTL');
    assert.equal(Date.parse(first.first_seen_at), Date.parse(at(900)));
    assert.equal(Date.parse(first.last_seen_at), Date.parse(at(3 * MIN + 900)));
  });

  it('filters by time window and by target prefix', async () => {
    const since = (await ok(`/api/map/graph?since=${encodeURIComponent(at(2 * MIN))}`)).json().links as Link[];
    assert.deepEqual(
      since.map((l) => `${l.near}>${l.far}`).sort(),
      [
        '198.18.0.10>198.19.1.1',
        '198.18.0.14>198.18.0.18',
        '198.18.0.18>198.19.1.1',
        '198.18.0.2>198.18.0.14',
        '198.18.0.2>198.18.0.6',
        '198.18.0.6>198.18.0.10',
      ],
      'the T2 links were last seen at minute 0',
    );
    const until = (await ok(`/api/map/graph?until=${encodeURIComponent(at(MIN))}`)).json().links as Link[];
    assert.equal(until.length, 5, 'B and T2, not C (first seen at minute 2)');
    const toT2 = (await ok('/api/map/graph?target_prefix=198.19.2.0/24')).json().links as Link[];
    assert.deepEqual(
      toT2.map((l) => `${l.near}>${l.far}`),
      ['198.18.0.2>198.18.1.6', '198.18.1.6>198.19.2.1'],
    );
  });

  it('refuses a bad filter with 400 naming the field', async () => {
    const cases: Array<[string, RegExp]> = [
      ['level=pop', /query\.level/],
      ['limit=0', /query\.limit/],
      ['limit=10001', /query\.limit/],
      ['since=yesterday', /query\.since/],
      ['asn=AS13335', /query\.asn/],
      ['target_prefix=198.19.2.1/24', /query\.target_prefix: host bits are set/],
      ['cursor=bm9uc2Vuc2U', /query\.cursor/],
      ['level=as&cursor=MS4xLjEuMSAxLjEuMS4y', /query\.cursor: the AS graph is one page/],
      ['colour=red', /query\.colour/],
    ];
    for (const [qs, want] of cases) {
      const res = await get(`/api/map/graph?${qs}`);
      assert.equal(res.status, 400, qs);
      assert.equal(res.json().error.code, 'validation_failed');
      assert.match(res.json().error.message, want);
    }
    for (const [path, want] of [
      [`/api/map/path?worker=w1&target=nope`, /query\.target/],
      ['/api/map/path?target=198.19.1.1', /query\.worker/],
      ['/api/map/changes?cursor=-1', /query\.cursor/],
    ] as const) {
      const res = await get(path);
      assert.equal(res.status, 400, path);
      assert.match(res.json().error.message, want);
    }
  });

  it('streams the graph as GraphML that an XML parser reads: one node per address, one edge per link, with attributes', async () => {
    const res = await ok('/api/map/graph?format=graphml');
    assert.match(String(res.headers['content-type']), /application\/graphml\+xml/);
    const doc = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      isArray: (name) => ['key', 'node', 'edge', 'data'].includes(name),
    }).parse(res.text);
    const graph = doc.graphml.graph;
    assert.equal(graph.edgedefault, 'directed');
    const { rows } = await client.query(
      `select count(*)::int as links, (select count(*)::int from (select near from links union select far from links) a) as nodes from links`,
    );
    assert.equal(graph.edge.length, rows[0].links);
    assert.equal(graph.node.length, rows[0].nodes);
    const ids = new Set(graph.node.map((n: { id: string }) => n.id));
    for (const e of graph.edge) assert.ok(ids.has(e.source) && ids.has(e.target), 'every edge joins declared nodes');
    const keys = new Map(doc.graphml.key.map((k: { id: string; 'attr.type': string }) => [k.id, k['attr.type']]));
    assert.equal(keys.get('count'), 'long');
    assert.equal(keys.get('delta_mean_us'), 'double');
    const edge = graph.edge.find(
      (e: { source: string; target: string }) => e.source === '198.18.0.2' && e.target === '198.18.0.6',
    );
    const data = Object.fromEntries(edge.data.map((d: { key: string; '#text': unknown }) => [d.key, d['#text']]));
    assert.equal(data.count, 3);
    assert.equal(data.delta_mean_us, 100);
    assert.equal(data.first_seen_at, at(900));
  });

  it("gives the path of a worker's route at a time, hop by hop", async () => {
    const during = (
      await ok(`/api/map/path?worker=w1&target=${T1}&at=${encodeURIComponent(at(2 * MIN + 30_000))}`)
    ).json();
    assert.equal(during.routes.length, 1);
    const route = during.routes[0];
    assert.equal(route.reached, true);
    assert.deepEqual(
      route.hops.map((h: { ttl: number; addresses: Array<{ address: string }> }) => [
        h.ttl,
        ...h.addresses.map((a) => a.address),
      ]),
      VIA_C.map((a, i) => [i + 1, a]),
    );
    assert.equal(route.hops[0].addresses[0].asn, null, 'no AS known for it');
    const before = (await ok(`/api/map/path?worker=w1&target=${T1}&at=${encodeURIComponent(at(MIN))}`)).json();
    assert.deepEqual(
      before.routes[0].hops.map((h: { addresses: Array<{ address: string }> }) => h.addresses[0]!.address),
      VIA_B,
    );
    const none = (await ok(`/api/map/path?worker=w2&target=${T1}`)).json();
    assert.deepEqual(none.routes, []);
  });

  it('lists route changes a page at a time, with both paths', async () => {
    const first = (await ok('/api/map/changes?worker=w1&limit=1')).json();
    assert.equal(first.changes.length, 1);
    assert.deepEqual(
      first.changes[0].before.hops,
      VIA_B.map((a) => [a]),
    );
    assert.deepEqual(
      first.changes[0].after.hops,
      VIA_C.map((a) => [a]),
    );
    assert.equal(first.changes[0].diverge_ttl, 2);
    assert.ok(first.next);
    const second = (await ok(`/api/map/changes?worker=w1&limit=1&cursor=${first.next}`)).json();
    assert.deepEqual(
      second.changes[0].after.hops,
      VIA_B.map((a) => [a]),
      'and back',
    );
    const third = (await ok(`/api/map/changes?worker=w1&limit=1&cursor=${second.next}`)).json();
    assert.deepEqual(third, { changes: [], next: null });
    assert.deepEqual((await ok('/api/map/changes?worker=w2')).json().changes, []);
    assert.equal((await ok(`/api/map/changes?since=${encodeURIComponent(at(3 * MIN))}`)).json().changes.length, 1);
  });

  it('aggregates the AS graph through address_info: links inside an AS and between ASes, private addresses left out', async (t) => {
    if (!hasAddressInfo) {
      const res = await get('/api/map/graph?level=as');
      assert.equal(res.status, 503);
      assert.match(res.json().error.message, /address_info/);
      t.skip(
        'table address_info does not exist yet (hop enrichment, src/map/enrich, creates it): the AS graph answers 503',
      );
      return;
    }
    // 198.18.0.2 is AS 64500; B and C are in 64501, T1 in 64502; 198.18.1.6 is private (no AS).
    await client.query(`insert into address_info (address, kind, asn, as_org, country, data_version, updated_at) values
      ('198.18.0.2', 'public', 64500, 'Access Net', 'FR', 't', now()),
      ('198.18.0.6', 'public', 64501, 'Transit B', 'DE', 't', now()), ('198.18.0.10', 'public', 64501, 'Transit B', 'DE', 't', now()),
      ('198.18.0.14', 'public', 64501, 'Transit B', 'DE', 't', now()), ('198.18.0.18', 'public', 64501, 'Transit B', 'DE', 't', now()),
      ('198.19.1.1', 'public', 64502, 'Target Co', 'NL', 't', now()), ('198.18.1.6', 'private', null, null, null, 't', now())
      on conflict (address) do nothing`);
    const g = (await ok('/api/map/graph?level=as')).json();
    assert.deepEqual(
      g.links.map((l: { near_asn: number; far_asn: number; links: number; count: number }) => [
        l.near_asn,
        l.far_asn,
        l.links,
        l.count,
      ]),
      [
        [64500, 64501, 2, 4], // 0.2>0.6 three times, 0.2>0.14 once
        [64501, 64502, 2, 4],
      ],
    );
    const transit = g.nodes.find((n: { asn: number }) => n.asn === 64501);
    assert.deepEqual([transit.as_org, transit.internal_links, transit.internal_count], ['Transit B', 2, 4]);
    const onlyB = (await ok('/api/map/graph?level=as&asn=64500')).json();
    assert.deepEqual(
      onlyB.links.map((l: { far_asn: number }) => l.far_asn),
      [64501],
    );
    const hop = (await ok(`/api/map/path?worker=w1&target=${T1}&at=${encodeURIComponent(at(MIN))}`)).json().routes[0]
      .hops[1].addresses[0];
    assert.deepEqual(hop, { address: '198.18.0.6', asn: 64501, as_org: 'Transit B' });
    await client.query(`delete from address_info where data_version = 't'`);
  });
});
