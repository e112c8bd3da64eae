import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { resolveRouters } from '../../src/aliases/resolve-routers.js';
import type { LabRun } from '../../src/lab/lab-run.js';
import { formatReport } from '../../src/lab/lab-run-report.js';
import { routerLinksPage } from '../../src/map/graph/router-graph.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { drillPlace, removeDrill, startDrill, type DrillPlace } from './lab-drill.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'root', 'ip');

/**
 * The whole mapper on lab/internet.yaml with the workers' low-rate alias measurements on (their default):
 * routers resolved from real record-route, timestamp, Mercator and Ally probes, scored against the lab.
 */
// Floors under what runs measured (the test prints its figures): alias recall 81-90 % of the 112 pairs of
// known addresses on one router (the workers measure aliases on one traced target in 10), router-link recall
// 41 of 42 node adjacencies (ee2 - ee3 is on no shortest path).
const RECALL_FLOOR = 0.7;
const LINK_RECALL_FLOOR = 0.9;

describe("router-level map on the 30-router internet, from the workers' alias measurements", { skip }, () => {
  let db: TestDatabase;
  let place: DrillPlace;
  let run: LabRun | undefined;

  before(async () => {
    place = await drillPlace('tdalias');
    db = await createTestDatabase('router_graph_lab');
  });

  after(async () => {
    await removeDrill(place, run);
    await db?.drop();
    await assertNoLeaks();
  });

  it("every inferred alias is true, most of a router's known interfaces are joined, and router links are true node adjacencies", async (t) => {
    run = await startDrill(place, { serverUrl: db.adminUrl, database: db.name });
    const converged = await run.waitForConvergence({ timeoutMs: 6 * 60_000 });
    const { report } = await run.finish(converged);
    t.diagnostic(
      `node adjacencies no router link shows: ${report.aliases.missedAdjacencies.map(([a, b]) => `${a} - ${b}`).join(', ') || 'none'}`,
    );
    for (const line of formatReport(report)
      .split('\n')
      .filter((l) => /^ {2}(links {6}|routers {4}|aliases {4}|router links )/.test(l)))
      t.diagnostic(line.trim());
    const { pairs, routerLinks } = report.aliases;
    const evidence = await run.pool.query<{ method: string; pairs: number; alias: number; distinct: number }>(
      `select method, count(*)::int as pairs, sum(alias_count)::int as alias, sum(distinct_count)::int as distinct from alias_evidence group by method order by method`,
    );
    t.diagnostic(
      `evidence: ${evidence.rows.map((r) => `${r.method} ${r.pairs} pairs (${r.alias} alias, ${r.distinct} distinct verdicts)`).join('; ')}`,
    );
    const again = await resolveRouters(run.pool);
    t.diagnostic(`resolution: ${JSON.stringify(again)}`);
    assert.equal(again.routers, report.aliases.routers, 'resolving again gives the same routers');

    const { rows } = await run.pool.query<{ type: string; n: number }>(
      `select type, count(*)::int as n from measurements.results group by type`,
    );
    assert.ok(
      (rows.find((r) => r.type === 'alias')?.n ?? 0) > 0,
      `the workers sent alias results: ${JSON.stringify(rows)}`,
    );
    assert.ok(report.aliases.routers > 0, 'some routers have more than one interface');
    assert.equal(pairs.precision, 1, `false aliases: ${JSON.stringify(report.aliases.falsePairs)}`);
    assert.ok(pairs.recall >= RECALL_FLOOR, `alias recall ${pairs.recall}: ${pairs.correct} of ${pairs.truth}`);
    assert.equal(
      routerLinks.precision,
      1,
      `router links that are no lab link: ${routerLinks.inferred - routerLinks.correct}`,
    );
    assert.ok(
      routerLinks.recall >= LINK_RECALL_FLOOR,
      `router-link recall ${routerLinks.recall}: missed ${JSON.stringify(report.aliases.missedAdjacencies)}`,
    );

    // The API's router level walks the same router links the score counted.
    const all = await routerLinksPage(run.pool, {}, 10_000);
    assert.equal(all.length, routerLinks.inferred);
    assert.ok(all.length < report.links.discovered, 'merging interfaces leaves fewer links than the interface level');
  });
});
