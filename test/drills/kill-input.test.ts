import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabRun } from '../../src/lab/lab-run.js';
import {
  assertCompleteMap,
  drillPlace,
  removeDrill,
  startDrill,
  waitForLoad,
  type DrillPlace,
} from '../lab/lab-drill.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'root', 'ip');

const DOWN_MS = 15_000;

describe('drill: kill -9 an input instance under load', { skip }, () => {
  let db: TestDatabase;
  let place: DrillPlace;
  let run: LabRun | undefined;
  before(async () => {
    place = await drillPlace('tdkin');
    db = await createTestDatabase('drill_kill_input');
  });
  after(async () => {
    await removeDrill(place, run);
    await db?.drop();
    await assertNoLeaks();
  });

  it('every worker fails over to the other input while it is away, and the map completes with nothing lost', async () => {
    run = await startDrill(place, { serverUrl: db.adminUrl, database: db.name });
    await waitForLoad(run, 60);
    const killedAt = new Date();
    assert.ok(run.kill('input-1', DOWN_MS), 'input-1 was running');
    await sleep(DOWN_MS - 2_000);
    const { rows } = await run.pool.query<{ consumer_id: string }>(
      `select distinct consumer_id from leases where issued_at > $1 order by 1`,
      [killedAt],
    );
    assert.equal(
      rows.length,
      run.vantages.length,
      `every worker got targets from input-2 while input-1 was away: ${JSON.stringify(rows)}`,
    );

    const converged = await run.waitForConvergence({ timeoutMs: 6 * 60_000 });
    const { report } = await run.finish(converged);
    assertCompleteMap(report);
  });
});
