import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HopSequence } from '../../src/lab/lab-truth.js';
import type { LabRun } from '../../src/lab/lab-run.js';
import { listRouteChanges, routePathsAt } from '../../src/results/route-history.js';
import { drillPlace, removeDrill, startDrill, type DrillPlace } from '../lab/lab-drill.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';

// From v2 to t2 there is one path, through ea1 and ee2; without the link ea1 - ee2 there is again one, longer,
// through ea2, ee3 and ee2. (Single paths, so the multipath trace's picture of each is exact.)
const VANTAGE = 'v2';
const TARGET = '198.19.2.1';
const LINK = ['ea1', 'ee2'] as const;
const asHops = (seq: HopSequence) => seq.map((a) => (a === null ? [] : [a]));

describe('drill: a link goes down and traffic shifts to another path', () => {
  let db: TestDatabase;
  let place: DrillPlace;
  let run: LabRun | undefined;
  before(async () => {
    place = await drillPlace('tdroute');
    db = await createTestDatabase('drill_route_change');
  });
  after(async () => {
    await removeDrill(place, run);
    await db?.drop();
    await assertNoLeaks();
  });

  it('the first trace after the change records a route change with the true paths before and after', async () => {
    run = await startDrill(place, { serverUrl: db.adminUrl, database: db.name });
    const [truthBefore] = run.lab.truth().truePaths(VANTAGE, TARGET) as [HopSequence];
    assert.equal(run.lab.truth().truePaths(VANTAGE, TARGET).length, 1);

    // The route is known on its first path before the link goes down.
    const deadline = Date.now() + 3 * 60_000;
    for (;;) {
      const routes = await routePathsAt(run.pool, VANTAGE, TARGET, new Date().toISOString());
      if (routes.some((r) => r.flow === -1)) {
        assert.deepEqual(routes.find((r) => r.flow === -1)!.hops, asHops(truthBefore), 'the multipath trace shows the one true path');
        break;
      }
      assert.ok(Date.now() < deadline, 'v2 never traced t2');
      await sleep(500);
    }

    const cutAt = new Date();
    await run.lab.setLink(LINK[0], LINK[1], 'down');
    const truthAfter = run.lab.truth().truePaths(VANTAGE, TARGET);
    assert.equal(truthAfter.length, 1);
    assert.notDeepEqual(truthAfter[0], truthBefore);

    const since = cutAt.toISOString();
    let changes = await listRouteChanges(run.pool, { worker: VANTAGE, target: TARGET, since, limit: 10 });
    while (!changes.some((c) => JSON.stringify(c.after.hops) === JSON.stringify(asHops(truthAfter[0]!)))) {
      assert.ok(Date.now() < deadline + 2 * 60_000, `no route change to the new path was recorded: ${JSON.stringify(changes)}`);
      await sleep(500);
      changes = await listRouteChanges(run.pool, { worker: VANTAGE, target: TARGET, since, limit: 10 });
    }

    // A trace already under way at the cut may show half of each path first; the chain still starts on the
    // old path and ends on the new one, and the first trace begun after the cut is on the new path already.
    const { rows } = await run.pool.query<{ id: string; measured_at: Date }>(
      `select id, measured_at from measurements.results where worker = $1 and target = $2 and type = 'multipath' and measured_at >= $3 order by measured_at limit 1`,
      [VANTAGE, TARGET, cutAt],
    );
    const firstAfterCut = rows[0]!;
    const last = changes.at(-1)!;
    assert.deepEqual(changes[0]!.before.hops, asHops(truthBefore), 'before: the path through ea1 and ee2');
    assert.deepEqual(last.after.hops, asHops(truthAfter[0]!), 'after: the path through ea2, ee3 and ee2');
    assert.ok(changes.length <= 2, JSON.stringify(changes));
    assert.ok(Date.parse(last.after_first_seen_at) <= firstAfterCut.measured_at.getTime(), 'recorded within one probing cycle: by the first trace begun after the cut');
    assert.equal(last.method, 'udp-paris');
    assert.equal(last.diverge_ttl, 2, 'the paths part after the first router');

    // Both paths stay queryable: the route before the cut and now.
    const then = await routePathsAt(run.pool, VANTAGE, TARGET, new Date(cutAt.getTime() - 1).toISOString());
    const now = await routePathsAt(run.pool, VANTAGE, TARGET, new Date().toISOString());
    assert.deepEqual(then.find((r) => r.flow === -1)!.hops, asHops(truthBefore));
    assert.deepEqual(now.find((r) => r.flow === -1)!.hops, asHops(truthAfter[0]!));
  });
});
