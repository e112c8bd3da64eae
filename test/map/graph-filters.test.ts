import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { mapPlugin } from '../../src/map/api/map-plugin.js';
import { managerService } from '../../src/manager/manager-service.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { Browser, codeFor, logIn } from '../manager/manager-browser.js';
import { postJson } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { traceResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const MIN = 60_000;
const T1 = '198.19.1.1';
const T2 = '198.19.2.1';
// w1 traces T1 over B then C; w2 traces T2 and, over B's first hops, T1 too. 198.18.0.2 is on every route.
const VIA_B = ['198.18.0.2', '198.18.0.6', '198.18.0.10', T1];
const VIA_C = ['198.18.0.2', '198.18.0.14', '198.18.0.18', T1];
const TO_T2 = ['198.18.0.2', '198.18.1.6', T2];
const W2_TO_T1 = ['198.18.0.2', '198.18.0.6', '198.18.2.10', T1];

type Link = { near: string; far: string };
const pairs = (path: string[]) => path.slice(1).map((far, i) => `${path[i]} ${far}`);
const sorted = (links: Link[]) => links.map((l) => `${l.near} ${l.far}`).sort();

describe('map graph filters: country and worker, at interface and AS level', { skip }, () => {
  const serverKey = randomBytes(32);
  let db: TestDatabase;
  let manager: RunningService;
  let output: RunningService;
  let client: pg.Client;
  const br = new Browser('198.51.100.60');
  const get = async (path: string) => {
    const res = await br.get(`${manager.url}${path}`);
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    return res.json();
  };

  before(async () => {
    db = await createTestDatabase('graph_filters');
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
    const posts = [
      traceResult(T1, VIA_B, { worker: 'w1', atMs: 0 }),
      traceResult(T1, VIA_C, { worker: 'w1', atMs: MIN }),
      traceResult(T2, TO_T2, { worker: 'w2', atMs: 0 }),
      traceResult(T1, W2_TO_T1, { worker: 'w2', atMs: 0 }),
    ];
    for (const r of posts) assert.equal((await postJson(`${output.url}/results`, r)).status, 200);
    // Test addresses posing as public ones: AS64500 in the US, AS64501 in Germany (two of its hops), AS64502 in Japan.
    await client.query(`insert into address_info (address, kind, asn, as_org, country, data_version) values
      ('198.18.0.2', 'public', 64500, 'Transit US', 'US', 't'),
      ('198.18.0.6', 'public', 64501, 'Carrier DE', 'DE', 't'),
      ('198.18.0.14', 'public', 64501, 'Carrier DE', 'DE', 't'),
      ('198.18.1.6', 'public', 64502, 'Net JP', 'JP', 't'),
      ('198.19.2.1', 'public', 64502, 'Net JP', 'JP', 't'),
      ('198.18.0.10', 'private', null, null, null, 't')`);
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

  it('country= keeps the links with an end in that country (code in either case)', async () => {
    const all = sorted((await get('/api/map/graph?limit=100')).links);
    assert.equal(all.length, new Set([...pairs(VIA_B), ...pairs(VIA_C), ...pairs(TO_T2), ...pairs(W2_TO_T1)]).size);
    const de = await get('/api/map/graph?country=DE');
    assert.deepEqual(sorted(de.links), [
      '198.18.0.14 198.18.0.18',
      '198.18.0.2 198.18.0.14',
      '198.18.0.2 198.18.0.6',
      '198.18.0.6 198.18.0.10',
      '198.18.0.6 198.18.2.10',
    ]);
    assert.deepEqual(sorted((await get('/api/map/graph?country=de')).links), sorted(de.links));
    assert.deepEqual(sorted((await get('/api/map/graph?country=JP')).links), [
      '198.18.0.2 198.18.1.6',
      `198.18.1.6 ${T2}`,
    ]);
    assert.deepEqual((await get('/api/map/graph?country=FR')).links, [], 'a valid country with no hops: no links');
    // Every link of every filtered answer has an end in the country, and every link with one is there.
    const { rows } = await client.query(
      `select distinct host(l.near) || ' ' || host(l.far) as p from links l join address_info a on a.address in (l.near, l.far) where a.country = 'DE' order by 1`,
    );
    assert.deepEqual(sorted(de.links), rows.map((r) => r.p).sort());
  });

  it('worker= keeps the links on paths that worker measured', async () => {
    assert.deepEqual(
      sorted((await get('/api/map/graph?worker=w1')).links),
      [...new Set([...pairs(VIA_B), ...pairs(VIA_C)])].sort(),
    );
    assert.deepEqual(
      sorted((await get('/api/map/graph?worker=w2')).links),
      [...new Set([...pairs(TO_T2), ...pairs(W2_TO_T1)])].sort(),
    );
    assert.deepEqual((await get('/api/map/graph?worker=nobody')).links, []);
    // With a target prefix: that worker's routes to it, not its routes anywhere plus anyone's to it.
    assert.deepEqual(sorted((await get(`/api/map/graph?worker=w2&target_prefix=${T1}`)).links), pairs(W2_TO_T1).sort());
    assert.deepEqual(sorted((await get(`/api/map/graph?worker=w2&country=DE`)).links), [
      '198.18.0.2 198.18.0.6',
      '198.18.0.6 198.18.2.10',
    ]);
  });

  it('both filters apply to the AS graph, the GraphML and the GeoJSON too', async () => {
    const asPairs = (g: { links: Array<{ near_asn: number; far_asn: number }> }) =>
      g.links.map((l) => `${l.near_asn}>${l.far_asn}`).sort();
    assert.deepEqual(asPairs(await get('/api/map/graph?level=as')), ['64500>64501', '64500>64502']);
    assert.deepEqual(asPairs(await get('/api/map/graph?level=as&country=JP')), ['64500>64502']);
    assert.deepEqual(asPairs(await get('/api/map/graph?level=as&worker=w1')), ['64500>64501']);
    const jp = await get('/api/map/graph?level=as&worker=w2&country=JP');
    assert.deepEqual(
      jp.nodes.map((n: { asn: number; internal_links: number }) => [n.asn, n.internal_links]).sort(),
      [
        [64500, 0],
        [64502, 1],
      ],
      '198.18.1.6 → T2 inside AS64502',
    );

    const graphml = (await br.get(`${manager.url}/api/map/graph?format=graphml&worker=w2`)).text;
    assert.equal((graphml.match(/<edge /g) ?? []).length, new Set([...pairs(TO_T2), ...pairs(W2_TO_T1)]).size);
    const geo = await get('/api/map/graph?format=geojson&country=JP');
    assert.deepEqual(
      geo.features
        .filter((f: { properties: { kind: string } }) => f.properties.kind === 'link')
        .map((f: { id: string }) => f.id)
        .sort(),
      ['198.18.0.2 198.18.1.6', `198.18.1.6 ${T2}`],
    );
  });

  it('refuses a bad country or worker with 400 naming the field', async () => {
    for (const [qs, field] of [
      ['country=ZZ', /query\.country: expected an ISO 3166-1 alpha-2/],
      ['country=USA', /query\.country/],
      ['country=', /query\.country/],
      ['worker=', /query\.worker/],
      [`worker=${'w'.repeat(201)}`, /query\.worker/],
      ['format=geojson&level=as', /query\.format: GeoJSON places addresses/],
    ] as const) {
      const res = await br.get(`${manager.url}/api/map/graph?${qs}`);
      assert.equal(res.status, 400, qs);
      assert.equal(res.json().error.code, 'validation_failed');
      assert.match(res.json().error.message, field, qs);
    }
  });
});
