import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabRun } from '../../src/lab/lab-run.js';
import { loadTopology } from '../../src/lab/topology.js';
import {
  assertCompleteMap,
  drillPlace,
  INTERNET,
  removeDrill,
  startDrill,
  waitForLoad,
  workerHealth,
  type DrillPlace,
} from '../lab/lab-drill.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'root', 'ip');

// Long enough to fill the spool and back the deliveries off several times; a minute proved nothing more.
const CUT_MS = 20_000;
const VANTAGE = 'v1';

describe('drill: a worker is cut off from the services for 20 seconds', { skip }, () => {
  let db: TestDatabase;
  let place: DrillPlace;
  let run: LabRun | undefined;
  before(async () => {
    place = await drillPlace('tdcut');
    db = await createTestDatabase('drill_cut_worker');
  });
  after(async () => {
    await removeDrill(place, run);
    await db?.drop();
    await assertNoLeaks();
  });

  it('it spools what it measured while away and delivers it after the link heals; the map completes with nothing lost', async () => {
    run = await startDrill(place, { serverUrl: db.adminUrl, database: db.name });
    await waitForLoad(run, 60);
    // Only the way to the services is cut (a blackhole route in the worker's namespace): it still probes the
    // lab, so it has results to keep. A worker cut off from everything pauses instead (isolation-guard-lab).
    const services = run.lab.addressOf(loadTopology(INTERNET).run!.services);
    const route = async (op: 'add' | 'del') => {
      const out = await run!.lab.exec(VANTAGE, 'ip', ['route', op, 'blackhole', `${services}/32`]);
      assert.equal(out.code, 0, `ip route ${op} blackhole ${services}: ${out.stderr}`);
    };
    await route('add');
    const cutAt = Date.now();
    let spooled = 0;
    while (Date.now() - cutAt < CUT_MS) {
      const health = await workerHealth(run, VANTAGE);
      spooled = Math.max(spooled, health.spool.depth);
      assert.equal(health.spool.dropped, 0);
      await sleep(2_000);
    }
    await route('del');
    assert.ok(spooled > 0, 'the worker kept its results while it could not deliver them');

    const converged = await run.waitForConvergence({ timeoutMs: 6 * 60_000 });
    const { report } = await run.finish(converged);
    assertCompleteMap(report);
  });
});
