/**
 * Fault drills on the whole mapper: the 30-router internet with 2 inputs, 2 outputs and a worker in each of
 * 3 vantages, run in-process so a test can strike while the system is busy, then checked for a map that is
 * complete and true and for results neither lost nor duplicated.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabReport } from '../../src/lab/lab-run-report.js';
import { LabRun, type LabProgress } from '../../src/lab/lab-run.js';
import { teardownLab } from '../../src/lab/teardown-lab.js';
import { loadTopology } from '../../src/lab/topology.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { quietLog } from '../support/test-databases.js';
import { removeStaleTestLabs, testLabName } from './test-lab-name.js';

export const INTERNET = join(PROJECT_ROOT, 'lab', 'internet.yaml');

export interface DrillPlace {
  tag: string;
  name: string;
  runDir: string;
}

export async function drillPlace(tag: string): Promise<DrillPlace> {
  await removeStaleTestLabs(tag);
  const name = testLabName(tag);
  return { tag, name, runDir: join(tmpdir(), `hopmap-${name}`) };
}

export async function removeDrill(place: DrillPlace, run: LabRun | undefined): Promise<void> {
  await run?.stop();
  await teardownLab(place.name);
  rmSync(place.runDir, { recursive: true, force: true });
}

export function startDrill(place: DrillPlace, db: { serverUrl: string; database: string }): Promise<LabRun> {
  return LabRun.start({ topology: loadTopology(INTERNET), name: place.name, serverUrl: db.serverUrl, database: db.database, runDir: place.runDir, log: quietLog });
}

/** Waits until the run has stored `results` results: the system is busy leasing, probing and ingesting. */
export async function waitForLoad(run: LabRun, results: number, timeoutMs = 120_000): Promise<LabProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await run.progress();
    if (p.results >= results && p.pending > 0) return p;
    assert.ok(p.pending > 0 || p.results < results, `the run converged before the drill could strike: ${JSON.stringify(p)}`);
    assert.ok(Date.now() < deadline, `the run did not reach ${results} results in time: ${JSON.stringify(p)}`);
    await sleep(200);
  }
}

/** What every drill must end with: the whole reachable map, nothing false, every result stored once. */
export function assertCompleteMap(report: LabReport): void {
  assert.deepEqual(report.falseLinks, [], 'every discovered link exists in the lab');
  assert.ok(report.links.recall >= 0.99, `recall ${report.links.recall}: missed ${JSON.stringify(report.missedLinks)}`);
  assert.equal(report.hops.measured, report.hops.known, 'every discovered hop was served and measured');
  assert.equal(report.results.duplicateIds, 0, 'no result stored twice');
  assert.equal(report.results.producedByWorkers, report.results.stored, 'every result the workers produced is stored, once');
}

export interface WorkerHealth {
  status: string;
  spool: { depth: number; bytes: number; dropped: number };
}

/** The worker's /health, read from inside its namespace (it listens on the namespace's loopback). */
export async function workerHealth(run: LabRun, vantage: string): Promise<WorkerHealth> {
  const script = "fetch('http://127.0.0.1:8090/health').then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(e.message); process.exit(1); })";
  const out = await run.lab.exec(vantage, process.execPath, ['-e', script], { timeoutMs: 10_000 });
  assert.equal(out.code, 0, `worker ${vantage} /health: ${out.stderr}`);
  return JSON.parse(out.stdout) as WorkerHealth;
}
