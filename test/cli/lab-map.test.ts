import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ingestFollowUps } from '../../src/cli/output-wiring.js';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { freePort } from '../../src/http/free-port.js';
import { completeLabMap } from '../../src/lab/complete-lab-map.js';
import { labAsRanges } from '../../src/lab/lab-as-ranges.js';
import { openLab } from '../../src/lab/open-lab.js';
import { loadTopology } from '../../src/lab/topology.js';
import { loadLocalRanges } from '../../src/map/enrich/local-ranges.js';
import { asGraph } from '../../src/map/graph/as-graph.js';
import { storeResults } from '../../src/results/store-results.js';
import { BIN_PATH, PROJECT_ROOT } from '../../src/version.js';
import { assertNoLeaks } from '../support/leaks.js';
import { traceResult } from '../support/result-factory.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';
import { httpsBrowser } from './manager-session.js';

const skip = needs('database');

const LAB_FILE = `${PROJECT_ROOT}/lab/internet.yaml`;
const UNREACHED = '198.19.255.1';

describe('hopmap lab map: one command serves a lab run’s map in the manager', { skip }, () => {
  let db: TestDatabase;
  let pool: Pool;
  let stateDir: string;
  const lab = openLab(loadTopology(LAB_FILE), { name: 'tlabmap' });
  const asOf = (node: string) => lab.plan.nodes.get(node)!.as!;
  // A few of the lab's true links, some inside an AS and some between two, each as a traceroute that sees it.
  const links = lab
    .truth()
    .trueLinks()
    .filter((l, i) => asOf(l.a) !== asOf(l.b) || i % 5 === 0)
    .slice(0, 12);
  /** Every `hopmap lab map` started and not yet stopped, so a failed test leaves none behind. */
  const running = new Set<Spawned>();

  const start = async (port: number) => {
    const child = spawnNode(
      [
        BIN_PATH,
        'lab',
        'map',
        LAB_FILE,
        '--name',
        'tlabmap',
        '--database-url',
        db.adminUrl,
        '--database',
        db.name,
        '--state-dir',
        stateDir,
        '--port',
        String(port),
        '--user',
        'alice',
      ],
      {
        DATABASE_URL: undefined,
        SERVER_KEY: undefined,
        HOPMAP_SERVER_KEY: undefined,
        HOPMAP_SERVER_KEY_FILE: undefined,
      },
    );
    running.add(child);
    await child.waitFor(/Ctrl-C stops it/, 90_000);
    return child;
  };
  const stop = async (child: Spawned) => {
    child.child.kill('SIGTERM');
    const { code } = await child.exited;
    running.delete(child);
    assert.equal(code, 0, child.output());
  };

  /** A host's own address (its lo), reached from its first interface: same node, same AS. */
  const destination = (() => {
    const node = [...lab.plan.nodes.values()].find(
      (n) => n.as !== undefined && n.lo.length > 0 && n.interfaces.length,
    )!;
    return { node: node.name, address: node.lo[0]!.cidr.split('/')[0]!, from: node.interfaces[0]!.address };
  })();

  before(async () => {
    db = await createTestDatabase('lab_map');
    pool = createPool(db.url, quietLog, { max: 2 });
    stateDir = mkdtempSync(join(tmpdir(), 'hopmap-lab-map-'));
    await loadLocalRanges(pool, labAsRanges(lab.plan));
    await storeResults(
      pool,
      // Traces that end short of their destination: both ends of each link are hops, as the output enriches.
      links.map((l) => traceResult(UNREACHED, [l.aAddress, l.bAddress], { worker: 'v1' })),
      ingestFollowUps,
    );
    // A trace that reached its destination: the destination is a link end but never a hop.
    await storeResults(
      pool,
      [traceResult(destination.address, [destination.from, destination.address], { worker: 'v1' })],
      ingestFollowUps,
    );
  });

  after(async () => {
    for (const child of running) {
      child.child.kill('SIGTERM');
      await child.exited;
    }
    await pool?.end();
    await db?.drop();
    rmSync(stateDir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('completing the map gives every hop the lab’s AS and builds the AS graph of the lab’s design', async () => {
    assert.ok(links.some((l) => asOf(l.a) !== asOf(l.b)) && links.some((l) => asOf(l.a) === asOf(l.b)));
    const done = await completeLabMap(pool);
    assert.ok(done.enriched >= links.length, `${done.enriched} hop addresses enriched`);
    const { rows } = await pool.query<{ address: string; asn: string | null }>(
      `select host(h.address) as address, i.asn::text from hops h left join address_info i on i.address = h.address`,
    );
    assert.ok(rows.length > 0);
    for (const r of rows) {
      const node = lab.truth().nodeOf(r.address);
      assert.ok(node, `${r.address} is a lab address`);
      assert.equal(r.asn, String(asOf(node)), `${r.address} (${node}) has its AS`);
    }
    const pair = (a: number, b: number) => (a < b ? `${a}-${b}` : `${b}-${a}`);
    const design = new Set(links.filter((l) => asOf(l.a) !== asOf(l.b)).map((l) => pair(asOf(l.a), asOf(l.b))));
    const graph = await asGraph(pool, {});
    assert.deepEqual([...new Set(graph.links.map((l) => pair(l.near_asn, l.far_asn)))].sort(), [...design].sort());
    // The destination, a link end that is no hop, has its AS too: no grey node.
    assert.equal(done.destinationsEnriched, 1);
    const { rows: ends } = await pool.query<{ address: string; asn: string | null }>(
      `select host(e.address) as address, i.asn::text from (select near as address from links union select far from links) e
       left join address_info i on i.address = e.address`,
    );
    for (const e of ends) assert.ok(e.asn !== null, `link end ${e.address} has an AS`);
    assert.equal(ends.find((e) => e.address === destination.address)?.asn, String(asOf(destination.node)));
    // Nothing is left for the output's jobs: a second completion writes nothing.
    const again = await completeLabMap(pool);
    assert.deepEqual([again.enriched, again.destinationsEnriched], [0, 0]);
  });

  it('makes a user when there is none, shows the TOTP secret once, and serves the map to that user', async () => {
    const port = await freePort();
    const child = await start(port);
    const output = child.output();
    const secret = /^secret \(to type in instead\): ([A-Z2-7]+)$/m.exec(output)?.[1];
    assert.ok(secret, output);
    assert.match(output, /^user alice added\./m);
    assert.match(output, new RegExp(`https://127\\.0\\.0\\.1:${port}/map/graph`));
    assert.match(output, /sign in as alice/);
    assert.match(output, /server key .*server\.key \(made now/);

    const browser = httpsBrowser(`https://127.0.0.1:${port}`);
    assert.equal((await browser.send('GET', '/map/graph')).status, 303, 'signed out: to the login');
    await browser.signIn('alice', secret);
    const page = await browser.send('GET', '/map/graph');
    assert.equal(page.status, 200, page.text.slice(0, 300));
    const api = await browser.send('GET', '/api/map/graph');
    assert.equal(api.status, 200, api.text.slice(0, 300));
    const graph = JSON.parse(api.text) as {
      links: Array<{ near: string; far: string }>;
      nodes: Array<{ asn: number }>;
    };
    assert.deepEqual(
      graph.links.map((l) => `${l.near} ${l.far}`).sort(),
      [...links.map((l) => `${l.aAddress} ${l.bAddress}`), `${destination.from} ${destination.address}`].sort(),
    );
    assert.ok(
      graph.nodes.every((n) => n.asn !== null),
      `every node has its AS: ${JSON.stringify(graph.nodes)}`,
    );
    await stop(child);
  });

  it('with a user there, makes none and serves at once', async () => {
    const port = await freePort();
    const child = await start(port);
    assert.doesNotMatch(child.output(), /added|secret/, child.output());
    assert.match(child.output(), /sign in as alice/);
    assert.doesNotMatch(child.output(), /made now/);
    const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from manager.users');
    assert.equal(rows[0]!.n, 1);
    await stop(child);
  });

  it('says which command makes the database when there is none', async () => {
    const child = spawnNode([
      BIN_PATH,
      'lab',
      'map',
      LAB_FILE,
      '--database-url',
      db.adminUrl,
      '--database',
      'hopmap_test_no_such_lab',
      '--state-dir',
      stateDir,
      '--port',
      String(await freePort()),
    ]);
    const { code } = await child.exited;
    assert.equal(code, 1, child.output());
    assert.match(child.output(), /no database hopmap_test_no_such_lab on this server: hopmap lab run \S+ makes it/);
  });
});
