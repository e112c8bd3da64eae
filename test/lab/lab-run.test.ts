import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPool } from '../../src/db/create-pool.js';
import type { LabReport } from '../../src/lab/lab-run-report.js';
import { openLab } from '../../src/lab/open-lab.js';
import { loadTopology } from '../../src/lab/topology.js';
import { asGraph } from '../../src/map/graph/as-graph.js';
import { teardownLab } from '../../src/lab/teardown-lab.js';
import { BIN_PATH, PROJECT_ROOT } from '../../src/version.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode } from '../support/spawn-process.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { removeStaleTestLabs, testLabName } from './test-lab-name.js';
import { LAB_LINK_RECALL } from './lab-drill.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'root', 'ip');

const TAG = 'tlabrun';

describe('hopmap lab run: the whole mapper on the 30-router internet', { skip }, () => {
  let db: TestDatabase;
  const name = testLabName(TAG);
  const runDir = join(tmpdir(), `hopmap-${name}`);

  before(async () => {
    await removeStaleTestLabs(TAG);
    db = await createTestDatabase('lab_run');
  });

  after(async () => {
    await teardownLab(name);
    await db?.drop();
    rmSync(runDir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('2 inputs, 2 outputs, workers in 3 vantages: no false link, every reachable link, every hop fed back, no result lost', async () => {
    const args = [
      BIN_PATH,
      'lab',
      'run',
      `${PROJECT_ROOT}/lab/internet.yaml`,
      '--name',
      name,
      '--database-url',
      db.adminUrl,
      '--database',
      db.name,
      '--run-dir',
      runDir,
      '--json',
      '--timeout',
      '8m',
    ];
    const run = spawnNode(args);
    const { code } = await run.exited;
    assert.equal(code, 0, run.output());
    const report = JSON.parse(run.output().slice(run.output().indexOf('{\n'))) as LabReport;

    assert.deepEqual(report.falseLinks, [], 'every discovered link exists in the lab');
    assert.equal(report.links.precision, 1);
    assert.ok(
      report.links.recall >= LAB_LINK_RECALL,
      `recall ${report.links.recall}: missed ${JSON.stringify(report.missedLinks)}`,
    );
    assert.ok(report.links.reachable > 250, `the truth has ${report.links.reachable} reachable links`);
    assert.ok(report.hops.known > 60);
    assert.equal(report.hops.measured, report.hops.known, 'every discovered hop was served and measured');
    assert.equal(report.results.duplicateIds, 0);
    assert.equal(
      report.results.producedByWorkers,
      report.results.stored,
      'every result the workers produced is stored, once',
    );
    assert.ok(
      report.byAs.some((a) => a.nearAs !== a.farAs),
      'links between networks are found',
    );

    const again = spawnNode([
      BIN_PATH,
      'lab',
      'report',
      `${PROJECT_ROOT}/lab/internet.yaml`,
      '--name',
      name,
      '--database-url',
      db.adminUrl,
      '--run-dir',
      runDir,
      '--json',
    ]);
    assert.equal((await again.exited).code, 0, again.output());
    const reread = JSON.parse(again.output().slice(again.output().indexOf('{\n'))) as LabReport;
    assert.deepEqual(reread, report, 'hopmap lab report prints the same figures from the database');

    await assertMapComplete(db.url, name);
  });
});

/**
 * The run left a complete map, as the output's jobs would have made it in the end: every hop with its AS from the
 * lab's declared ranges, the AS graph of the lab's design, the routers from the alias evidence.
 */
async function assertMapComplete(url: string, name: string): Promise<void> {
  const lab = openLab(loadTopology(`${PROJECT_ROOT}/lab/internet.yaml`), { name });
  const truth = lab.truth();
  const asOf = (node: string) => lab.plan.nodes.get(node)?.as;
  const pool = createPool(url, quietLog, { max: 2 });
  try {
    const { rows: hops } = await pool.query<{ address: string; info: boolean; asn: string | null }>(
      `select host(h.address) as address, i.address is not null as info, i.asn::text as asn
         from hops h left join address_info i on i.address = h.address`,
    );
    assert.ok(hops.length > 60);
    for (const h of hops) {
      assert.ok(h.info, `hop ${h.address} has an address_info row`);
      const node = truth.nodeOf(h.address);
      const as = node && asOf(node);
      if (as !== undefined) assert.equal(h.asn, String(as), `hop ${h.address} (${node}) is in AS${as}`);
    }

    const pair = (a: number, b: number) => (a < b ? `AS${a}-AS${b}` : `AS${b}-AS${a}`);
    const seen = new Set(hops.map((h) => truth.nodeOf(h.address)).filter((n) => n !== undefined));
    const design = new Set<string>();
    for (const l of truth.trueLinks()) {
      const [a, b] = [asOf(l.a), asOf(l.b)];
      if (a !== undefined && b !== undefined && a !== b && seen.has(l.a) && seen.has(l.b)) design.add(pair(a, b));
    }
    const { rows: kept } = await pool.query<{ n: number; stale: boolean }>(
      `select (select count(*) from as_links where links > 0)::int as n, (select stale from as_links_state) as stale`,
    );
    assert.ok(kept[0]!.n > 0 && !kept[0]!.stale, `as_links holds the AS graph, fresh: ${JSON.stringify(kept[0])}`);
    const graph = await asGraph(pool, {});
    assert.deepEqual(
      [...new Set(graph.links.map((l) => pair(l.near_asn, l.far_asn)))].sort(),
      [...design].sort(),
      'the AS adjacencies are the lab’s design',
    );

    const { rows: aliases } = await pool.query<{ evidence: number; routers: number }>(
      `select (select count(*) from alias_evidence)::int as evidence, (select count(*) from routers)::int as routers`,
    );
    if (aliases[0]!.evidence > 0) assert.ok(aliases[0]!.routers > 0, `routers resolved: ${JSON.stringify(aliases[0])}`);
  } finally {
    await pool.end();
  }
}
