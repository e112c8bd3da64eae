import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LabRun } from '../../src/lab/lab-run.js';
import { enrichPendingHops } from '../../src/map/enrich/enrich-hops-task.js';
import { asGraph } from '../../src/map/graph/as-graph.js';
import { drillPlace, removeDrill, startDrill, type DrillPlace } from '../lab/lab-drill.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'root', 'ip');

const pairKey = (a: number, b: number) => (a < b ? `AS${a}-AS${b}` : `AS${b}-AS${a}`);

describe('the AS graph of a lab run is the lab’s AS design', { skip }, () => {
  let db: TestDatabase;
  let place: DrillPlace;
  let run: LabRun | undefined;
  before(async () => {
    place = await drillPlace('tlabas');
    db = await createTestDatabase('lab_as_graph');
  });
  after(async () => {
    await removeDrill(place, run);
    await db?.drop();
    await assertNoLeaks();
  });

  it('after convergence, the AS adjacencies are exactly the AS pairs joined by a true link between seen routers', async () => {
    run = await startDrill(place, { serverUrl: db.adminUrl, database: db.name });
    await run.waitForConvergence({ timeoutMs: 6 * 60_000 });
    // What the output's enrich_hops job does within a minute, done now.
    await enrichPendingHops(run.pool, { maxBatches: Number.MAX_SAFE_INTEGER });

    const { plan } = run.lab;
    const truth = run.lab.truth();
    const asOf = (node: string) => plan.nodes.get(node)!.as!;
    const { rows } = await run.pool.query<{ a: string }>('select host(address) as a from hops');
    const seen = new Set(rows.map((r) => truth.nodeOf(r.a)).filter((n) => n !== undefined));
    const design = new Map<string, string[]>();
    for (const l of truth.trueLinks()) {
      if (asOf(l.a) === asOf(l.b) || !seen.has(l.a) || !seen.has(l.b)) continue;
      const key = pairKey(asOf(l.a), asOf(l.b));
      design.set(key, [...(design.get(key) ?? []), `${l.a}-${l.b}`]);
    }

    const graph = await asGraph(run.pool, {});
    const found = new Map<string, string[]>();
    for (const l of graph.links) {
      const key = pairKey(l.near_asn, l.far_asn);
      found.set(key, [...(found.get(key) ?? []), `AS${l.near_asn}→AS${l.far_asn}: ${l.links} links`]);
    }
    const keys = [...new Set([...design.keys(), ...found.keys()])].sort();
    console.log(
      [
        'AS pair            true links between seen routers          AS graph',
        ...keys.map(
          (k) =>
            `${k.padEnd(18)} ${(design.get(k) ?? ['-']).join(' ').padEnd(40)} ${(found.get(k) ?? ['-']).join('; ')}`,
        ),
      ].join('\n'),
    );

    assert.ok(design.size >= 4, `the lab joins its four ASes by ${design.size} pairs of seen routers`);
    const { rows: declared } = await run.pool.query<{ n: number }>(
      `select count(*)::int as n from address_info where source = 'declared' and kind <> 'public'`,
    );
    assert.ok(declared[0]!.n > 60, `${declared[0]!.n} lab addresses have their declared AS`);
    assert.ok(
      graph.links.length > 0,
      `asGraph shows no AS adjacency although ${declared[0]!.n} lab addresses have a declared AS: does it still count only kind = 'public' addresses?`,
    );
    assert.deepEqual(
      [...found.keys()].sort(),
      [...design.keys()].sort(),
      'the AS adjacencies are the design’s, none missing and none extra',
    );
    const ases = [...new Set([...plan.nodes.values()].map((n) => n.as!))].sort();
    assert.deepEqual(
      graph.nodes.map((n) => [n.asn, n.as_org]).sort(),
      ases.map((a) => [a, `lab AS${a}`]),
      'every AS of the lab, named as declared',
    );
    for (const n of graph.nodes) assert.ok(n.internal_links > 0, `AS${n.asn} has links inside it`);
  });
});
