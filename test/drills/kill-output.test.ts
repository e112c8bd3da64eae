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

describe('drill: kill -9 an output instance under load', { skip }, () => {
  let db: TestDatabase;
  let place: DrillPlace;
  let run: LabRun | undefined;
  before(async () => {
    place = await drillPlace('tdkout');
    db = await createTestDatabase('drill_kill_output');
  });
  after(async () => {
    await removeDrill(place, run);
    await db?.drop();
    await assertNoLeaks();
  });

  it('workers deliver to the other output while it is away; a batch cut off mid-request is sent again and stored once', async () => {
    run = await startDrill(place, { serverUrl: db.adminUrl, database: db.name });
    const before = await waitForLoad(run, 60);
    assert.ok(run.kill('output-1', DOWN_MS), 'output-1 was running');
    await sleep(DOWN_MS - 2_000);
    const during = await run.progress();
    assert.ok(
      during.results > before.results,
      `results kept arriving through output-2 (${before.results} -> ${during.results})`,
    );

    const converged = await run.waitForConvergence({ timeoutMs: 6 * 60_000 });
    const { report } = await run.finish(converged);
    assertCompleteMap(report);
  });
});
