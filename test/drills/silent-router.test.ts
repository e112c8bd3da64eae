import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabRun } from '../../src/lab/lab-run.js';
import { assertCompleteMap, drillPlace, removeDrill, startDrill, type DrillPlace } from '../lab/lab-drill.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'root', 'ip');

// wa2 is one of west's two aggregation routers, silent in internet.yaml: traces from v1 show `*` there.
const ROUTER = 'wa2';

describe('drill: a silent router starts answering', { skip }, () => {
  let db: TestDatabase;
  let place: DrillPlace;
  let run: LabRun | undefined;
  before(async () => {
    place = await drillPlace('tdsilent');
    db = await createTestDatabase('drill_silent_router');
  });
  after(async () => {
    await removeDrill(place, run);
    await db?.drop();
    await assertNoLeaks();
  });

  it('the next passes find its interfaces and links, fed back and measured, with no false link and no route change', async () => {
    // `hopmap lab run`'s 10 s between passes, not the drills' 2 s: this drill asserts that no route change is
    // recorded, and every extra pass is another chance for MDA (at 0.99) to miss a branch once and record one
    // (it did, once, at 2 s in CI); the shorter pause saved this drill nothing (73 s before, 77 s after).
    run = await startDrill(place, { serverUrl: db.adminUrl, database: db.name }, { passCooldown: '10s' });
    await run.waitForConvergence({ timeoutMs: 6 * 60_000 });
    const addresses = run.lab.plan.nodes.get(ROUTER)!.interfaces.map((i) => i.address);
    const seen = `select count(*)::int as n from links where host(near) = any($1) or host(far) = any($1)`;
    assert.equal(
      (await run.pool.query<{ n: number }>(seen, [addresses])).rows[0]!.n,
      0,
      'nothing links through the silent router yet',
    );
    const changedAt = new Date();
    await run.lab.setIcmp(ROUTER, 'normal');
    const deadline = Date.now() + 3 * 60_000;
    while ((await run.pool.query<{ n: number }>(seen, [addresses])).rows[0]!.n === 0) {
      assert.ok(Date.now() < deadline, `no link through ${ROUTER} was found after it started answering`);
      await sleep(500);
    }
    // Longer than the input's pass cooldown (10 s), so every target is traced again after the change.
    const converged = await run.waitForConvergence({ quietMs: 15_000, timeoutMs: 6 * 60_000 });
    const { report } = await run.finish(converged);
    assertCompleteMap(report);
    const known = (
      await run.pool.query<{ n: number }>(`select count(*)::int as n from hops where host(address) = any($1)`, [
        addresses,
      ])
    ).rows[0]!.n;
    assert.ok(known >= 2, `${ROUTER}'s interfaces became hops: ${known}`);
    // A `*` that starts answering fills in the route's picture: the same route, not a route change.
    const { rows: changes } = await run.pool.query(
      `select c.worker, host(c.target) as target, bp.hops as before, ap.hops as after from route_changes c
         join paths bp on bp.id = c.before_path_id join paths ap on ap.id = c.after_path_id
        where c.detected_at >= $1 and exists (select 1 from jsonb_array_elements(ap.hops) h, jsonb_array_elements_text(h) a where a = any($2))`,
      [changedAt, addresses],
    );
    assert.deepEqual(changes, []);
    const { rows: filled } = await run.pool.query<{ n: number }>(
      `select count(*)::int as n from route_current rc join route_spans s on s.id = rc.span_id join paths p on p.id = s.path_id
        where exists (select 1 from jsonb_array_elements(p.hops) h, jsonb_array_elements_text(h) a where a = any($1))`,
      [addresses],
    );
    assert.ok(filled[0]!.n > 0, `routes now show ${ROUTER} in their picture`);
  });
});
