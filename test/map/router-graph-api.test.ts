import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { resolveRouters } from '../../src/aliases/resolve-routers.js';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { mapPlugin } from '../../src/map/api/map-plugin.js';
import { managerService } from '../../src/manager/manager-service.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { RESULT_FORMAT } from '../../src/results/result-schema.js';
import { ingestFollowUps } from '../../src/cli/output-wiring.js';
import { storeResults } from '../../src/results/store-results.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { assertNoLeaks } from '../support/leaks.js';
import { traceResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { Browser, codeFor, logIn } from '../manager/manager-browser.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const MIN = 60_000;
const T1 = '198.19.1.1';
const T2 = '198.19.2.1';
const X = '198.18.0.2';
// A and B are two interfaces of one router R (id A, the smaller); C is a router of its own.
const A = '198.18.0.6';
const B = '198.18.0.14';
const C = '198.18.0.10';

interface RouterLink {
  near: string;
  far: string;
  links: number;
  count: number;
  first_seen_at: string;
  last_seen_at: string;
  delta_min_us: number;
  delta_max_us: number;
  delta_mean_us: number;
}
interface RouterNode {
  id: string;
  interfaces: string[];
  asn: number | null;
  as_org: string | null;
  asns: number[];
  count: number;
  degree: number;
}

describe('map API: /api/map/graph?level=router', { skip }, () => {
  const serverKey = randomBytes(32);
  let db: TestDatabase;
  let manager: RunningService;
  let pool: Pool;
  const br = new Browser('198.51.100.30');
  const get = async (path: string) => br.get(`${manager.url}${path}`);
  const ok = async (path: string) => {
    const res = await get(path);
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    return res;
  };

  before(async () => {
    db = await createTestDatabase('router_graph_api');
    pool = createPool(db.url, quietLog);
    manager = await startService(managerService({ serverKey, plugins: [mapPlugin] }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    await storeResults(
      pool,
      [
        traceResult(T1, [X, A, C, T1], { worker: 'w1', atMs: 0 }),
        traceResult(T1, [X, B, C, T1], { worker: 'w1', flow: 2, atMs: MIN }),
        traceResult(T2, [X, A, B, T2], { worker: 'w2', atMs: 0 }),
        {
          format: RESULT_FORMAT,
          id: randomUUID(),
          type: 'alias',
          worker: 'w1',
          lease: null,
          target: T1,
          started_at: new Date().toISOString(),
          finished_at: new Date().toISOString(),
          flow: 4242,
          probes_sent: 1,
          record_route: [],
          timestamps: [],
          ipid: [],
          mercator: [{ address: B, from: A }],
        },
      ],
      ingestFollowUps,
    );
    await resolveRouters(pool);
    // R's interfaces: A in AS64500, B numbered from its neighbour AS64501 (a border router); C in AS64500.
    await pool.query(
      `insert into address_info (address, kind, asn, as_org) values ($1, 'public', 64500, 'Core'), ($2, 'public', 64501, 'West'), ($3, 'public', 64500, 'Core'), ($4, 'public', 64500, 'Core')`,
      [A, B, C, X],
    );
    const alice = await addUser(manager.pool, serverKey, 'alice');
    assert.equal((await logIn(br, manager.url, manager.url, 'alice', await codeFor(alice.secret))).status, 303);
  });

  after(async () => {
    await manager?.stop();
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  it('pages router links by cursor: interface links grouped by router, the link inside R dropped, figures summed', async () => {
    const seen: RouterLink[] = [];
    const nodes = new Map<string, RouterNode>();
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const body: { level: string; links: RouterLink[]; nodes: RouterNode[]; next: string | null } = (
        await ok(`/api/map/graph?level=router&limit=3${cursor ? `&cursor=${cursor}` : ''}`)
      ).json();
      assert.equal(body.level, 'router');
      pages++;
      assert.deepEqual(
        new Set(body.nodes.map((n) => n.id)),
        new Set(body.links.flatMap((l) => [l.near, l.far])),
        'the nodes of a page are the ends of its links',
      );
      for (const n of body.nodes) nodes.set(n.id, n);
      seen.push(...body.links);
      cursor = body.next;
    }
    assert.equal(pages, 2, '3 + 1');
    assert.deepEqual(
      seen.map((l) => [l.near, l.far, l.links, l.count]),
      [
        [X, A, 2, 3], // X>A twice (w1, w2) and X>B once
        [A, C, 2, 2], // A>C and B>C; A>B is inside R
        [A, T2, 1, 1],
        [C, T1, 1, 2],
      ],
    );
    const xr = seen[0]!;
    assert.deepEqual(
      [xr.delta_min_us, xr.delta_max_us, xr.delta_mean_us],
      [100, 100, 100],
      'the factory answers 100 µs more per TTL',
    );
    assert.equal(
      Date.parse(xr.last_seen_at),
      Date.parse(new Date(Date.UTC(2026, 10, 23, 1, 0, 0) + MIN + 900).toISOString()),
    );
    assert.deepEqual(
      nodes.get(A),
      { id: A, interfaces: [A, B], asn: 64500, as_org: 'Core', asns: [64500, 64501], count: 6, degree: 3 },
      "A is the first page's; both its interfaces",
    );
    assert.deepEqual(nodes.get(T2)!.interfaces, [T2], 'an address with no alias is a router of its own');
    assert.equal(nodes.get(T2)!.asn, null);
  });

  it('filters at the router level as at the interface level', async () => {
    const toT2 = (await ok('/api/map/graph?level=router&target_prefix=198.19.2.0/24')).json().links as RouterLink[];
    assert.deepEqual(
      toT2.map((l) => [l.near, l.far, l.links]),
      [
        [X, A, 1],
        [A, T2, 1],
      ],
      'only the interface links on paths to T2, still grouped',
    );
    const since = (
      await ok(
        `/api/map/graph?level=router&since=${encodeURIComponent(new Date(Date.UTC(2026, 10, 23, 1, 0, 30)).toISOString())}`,
      )
    ).json().links as RouterLink[];
    assert.deepEqual(
      since.map((l) => [l.near, l.far, l.links]),
      [
        [X, A, 1],
        [A, C, 1],
        [C, T1, 1],
      ],
      'links last seen at minute 1: X>B, B>C, C>T1',
    );
  });

  it('streams the router graph as GraphML: one node per router with its interfaces, one edge per router link', async () => {
    const res = await ok('/api/map/graph?level=router&format=graphml');
    assert.match(String(res.headers['content-type']), /application\/graphml\+xml/);
    const doc = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      isArray: (name) => ['key', 'node', 'edge', 'data'].includes(name),
    }).parse(res.text);
    const graph = doc.graphml.graph;
    const data = (el: { data: Array<{ key: string; '#text': unknown }> }) =>
      Object.fromEntries(el.data.map((d) => [d.key, d['#text']]));
    assert.deepEqual(
      graph.node.map((n: { id: string }) => n.id).sort(),
      [A, C, X, T1, T2].sort(),
      'B is no node: it is an interface of A',
    );
    const r = graph.node.find((n: { id: string }) => n.id === A);
    assert.deepEqual(data(r), { interfaces: `${A} ${B}`, interface_count: 2, asn: 64500, as_org: 'Core' });
    assert.deepEqual(
      graph.edge.map((e: { source: string; target: string }) => `${e.source}>${e.target}`),
      [`${X}>${A}`, `${A}>${C}`, `${A}>${T2}`, `${C}>${T1}`],
    );
    assert.equal(data(graph.edge[1]).links, 2);
    const keys = new Map(doc.graphml.key.map((k: { id: string; 'attr.type': string }) => [k.id, k['attr.type']]));
    assert.equal(keys.get('links'), 'long');
  });

  it('refuses a bad cursor with 400 naming the field', async () => {
    const res = await get('/api/map/graph?level=router&cursor=bm9uc2Vuc2U');
    assert.equal(res.status, 400);
    assert.match(res.json().error.message, /query\.cursor/);
  });
});
