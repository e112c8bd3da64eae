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
  workerHealth,
  type DrillPlace,
} from '../lab/lab-drill.js';
import { assertNoLeaks } from '../support/leaks.js';
import { startThrowawayPostgres } from '../support/throwaway-postgres.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'root', 'ip');

const OUTAGE_MS = 12_000;

describe("drill: PostgreSQL crashes and restarts under load (a server of the test's own)", { skip }, () => {
  let pg: Awaited<ReturnType<typeof startThrowawayPostgres>> | undefined;
  let place: DrillPlace;
  let run: LabRun | undefined;
  before(async () => {
    place = await drillPlace('tdpg');
    pg = await startThrowawayPostgres();
  });
  after(async () => {
    await removeDrill(place, run);
    await pg?.destroy();
    await assertNoLeaks();
  });

  it('services answer 503 and reconnect, workers spool meanwhile, and every result is stored once afterwards', async () => {
    run = await startDrill(place, { serverUrl: pg!.url, database: 'hopmap_drill' });
    await waitForLoad(run, 60);
    await pg!.cluster.stop('immediate');
    const stoppedAt = Date.now();
    let spooled = 0;
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      const depths = await Promise.all(run.vantages.map(async (v) => (await workerHealth(run!, v)).spool.depth));
      spooled = Math.max(spooled, ...depths);
      await sleep(1_000);
    }
    await pg!.cluster.start();
    assert.ok(spooled > 0, 'workers held results in their spools while the database was away');

    const converged = await run.waitForConvergence({ timeoutMs: 6 * 60_000 });
    const { report } = await run.finish(converged);
    assertCompleteMap(report);
  });
});
