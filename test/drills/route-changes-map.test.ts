import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LabRun } from '../../src/lab/lab-run.js';
import { changesLaterThanFullTrace } from '../../src/lab/route-change-score.js';
import { routePathsAt } from '../../src/results/route-history.js';
import { asHops, drillPlace, removeDrill, startDrill, workerHealth, type DrillPlace } from '../lab/lab-drill.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'root', 'ip');

/**
 * Three links of lab/internet.yaml go down at once:
 * - c2 - c3, one rung of the core ladder: an ECMP branch (flows on it move, others may stay);
 * - ea1 - ee2, the only path from v2 to t2 (single path);
 * - eb2 - sb2, the east-south peering, several hops out from v2 and deeper still from v1: behind the points
 *   where the workers' Doubletree traces into south's networks stop.
 */
const CUTS: Array<[string, string]> = [
  ['c2', 'c3'],
  ['ea1', 'ee2'],
  ['eb2', 'sb2'],
];
/** The workers' full re-trace period: every destination is traced without the stop set this often. */
const RETRACE = '30s';

describe('drill: links go down across the map while the workers trace with stop sets', { skip }, () => {
  let db: TestDatabase;
  let place: DrillPlace;
  let run: LabRun | undefined;
  before(async () => {
    place = await drillPlace('tdchanges');
    db = await createTestDatabase('drill_route_changes');
  });
  after(async () => {
    await removeDrill(place, run);
    await db?.drop();
    await assertNoLeaks();
  });

  it('every route that had to move records the change with true paths by its next full trace, and no other route records one', async (t) => {
    run = await startDrill(
      place,
      { serverUrl: db.adminUrl, database: db.name },
      // Single-flow Paris traces, where Doubletree applies; entries that would outlive the drill, so only the
      // full re-traces and the moved-route rule can show what changed behind a stop point.
      { worker: { traceroute_mode: 'single', stop_set_max_age: '1h', full_trace_every: RETRACE } },
    );
    await run.waitForConvergence({ timeoutMs: 6 * 60_000 });
    for (const vantage of run.vantages) {
      const health = await workerHealth(run, vantage);
      assert.ok(health.stop_set && health.stop_set.probes_saved > 0, `${vantage}: ${JSON.stringify(health.stop_set)}`);
    }

    const change = await run.setLinks(CUTS, 'down');
    const cutAt = new Date(change.at);
    await run.waitForRouteChanges(change, { timeoutMs: 4 * 60_000 });

    const { report } = await run.finish({ lastGrowthAt: Date.now() });
    assert.deepEqual(report.falseLinks, []);
    const rc = report.routeChanges![0]!;
    t.diagnostic(
      `${rc.mustMove} of ${rc.routes} routes had to move, ${rc.detected.length} recorded; delay ${JSON.stringify(rc.delaySeconds)}`,
    );
    assert.ok(rc.mustMove >= 10, `the cuts moved routes: ${rc.mustMove}`);
    assert.deepEqual(rc.missed, [], 'every route that had to move recorded a change');
    assert.deepEqual(rc.falseChanges, [], 'no route the cuts did not touch recorded one');
    assert.deepEqual(
      rc.detected.filter((d) => !d.trueBefore || !d.trueAfter),
      [],
      'each change between true paths of the lab before and after',
    );

    // The route's picture now is exactly a true path: the full trace since the cut completed it.
    const truth = run.lab.truth();
    for (const d of rc.detected) {
      const now = (await routePathsAt(run.pool, d.worker, d.target, new Date().toISOString())).find(
        (r) => r.method === d.method && r.flow === d.flow,
      )!;
      const paths = truth.truePaths(d.worker, d.target).map(asHops);
      assert.ok(
        paths.some((p) => JSON.stringify(p) === JSON.stringify(now.hops)),
        `${d.worker} -> ${d.target}: ${JSON.stringify(now.hops)} is none of ${JSON.stringify(paths)}`,
      );
    }

    // Within one re-trace period: each change was recorded no later than the route's first full trace after the cut.
    assert.deepEqual(
      await changesLaterThanFullTrace(run.pool, cutAt),
      [],
      'recorded by the first full trace at the latest',
    );

    // Some changes lay behind a stop point: a trace after the cut stopped at a known pair short of them, and the
    // full re-trace found them.
    const { rows: behind } = await run.pool.query<{ n: number }>(
      `select count(distinct (c.worker, c.target))::int as n from route_changes c
        where c.detected_at >= $1 and exists (
          select 1 from measurements.results x where x.worker = c.worker and x.target = c.target and x.type = 'traceroute'
             and x.measured_at >= $1 and x.measured_at < c.after_first_seen_at and x.body->>'stop' = 'stop-set')`,
      [cutAt],
    );
    assert.ok(behind[0]!.n > 0, 'a change behind a Doubletree stop point was caught by the full re-trace');
  });
});
