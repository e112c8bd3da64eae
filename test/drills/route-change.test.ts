import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LabRun } from '../../src/lab/lab-run.js';
import { routePathsAt } from '../../src/results/route-history.js';
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

const skip = needs('database', 'root', 'ip');

const { vantage: VANTAGE, target: TARGET } = ROUTE_CHANGE;

describe('drill: a link goes down and traffic shifts to another path', { skip }, () => {
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
    // ROUTE_CHANGE: from v2 to t2 through ea1 and ee2; without the link ea1 - ee2, through ea2, ee3 and ee2.
    const { cutAt, truthBefore, truthAfter, changes } = await cutLinkUnderRoute(run);

    // A trace already under way at the cut may show half of each path first; the chain still starts on the
    // old path and ends on the new one, and the first trace begun after the cut is on the new path already.
    const { rows } = await run.pool.query<{ id: string; measured_at: Date }>(
      `select id, measured_at from measurements.results where worker = $1 and target = $2 and type = 'multipath' and measured_at >= $3 order by measured_at limit 1`,
      [VANTAGE, TARGET, cutAt],
    );
    const firstAfterCut = rows[0]!;
    const last = changes.at(-1)!;
    assert.deepEqual(changes[0]!.before.hops, asHops(truthBefore), 'before: the path through ea1 and ee2');
    assert.deepEqual(last.after.hops, asHops(truthAfter), 'after: the path through ea2, ee3 and ee2');
    assert.ok(changes.length <= 2, JSON.stringify(changes));
    assert.ok(
      Date.parse(last.after_first_seen_at) <= firstAfterCut.measured_at.getTime(),
      'recorded within one probing cycle: by the first trace begun after the cut',
    );
    assert.equal(last.method, 'udp-paris');
    assert.equal(last.diverge_ttl, 2, 'the paths part after the first router');

    // Both paths stay queryable: the route before the cut and now.
    const then = await routePathsAt(run.pool, VANTAGE, TARGET, new Date(cutAt.getTime() - 1).toISOString());
    const now = await routePathsAt(run.pool, VANTAGE, TARGET, new Date().toISOString());
    assert.deepEqual(then.find((r) => r.flow === -1)!.hops, asHops(truthBefore));
    assert.deepEqual(now.find((r) => r.flow === -1)!.hops, asHops(truthAfter));
  });
});
