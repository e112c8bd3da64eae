import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LabReport } from '../../src/lab/lab-run-report.js';
import { teardownLab } from '../../src/lab/teardown-lab.js';
import { BIN_PATH, PROJECT_ROOT } from '../../src/version.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode } from '../support/spawn-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
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
  });
});
