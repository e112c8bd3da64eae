import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { buildLab } from '../../src/lab/build-lab.js';
import type { Lab } from '../../src/lab/open-lab.js';
import { loadTopology } from '../../src/lab/topology.js';
import type { Result } from '../../src/results/result-schema.js';
import { BIN_PATH, PROJECT_ROOT } from '../../src/version.js';
import { removeStaleTestLabs, testLabName } from '../lab/test-lab-name.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { needs } from '../support/needs.js';

const skip = needs('root', 'ip');

const TAG = 'tisol';
const HEALTH_PORT = 18093;
// Every address of the chain's target /28 answers ping: any "no answer" in the output is the cut's doing.
const TARGETS = Array.from({ length: 14 }, (_, i) => `198.19.1.${i + 1}`);

describe('the worker losing its own uplink', { skip }, () => {
  let lab: Lab;
  let dir: string;
  let worker: Spawned | undefined;

  before(async () => {
    await removeStaleTestLabs(TAG);
    lab = await buildLab(loadTopology(`${PROJECT_ROOT}/lab/chain.yaml`), { name: testLabName(TAG) });
    dir = mkdtempSync(join(tmpdir(), 'hopmap-isolation-'));
    writeFileSync(join(dir, 'targets.txt'), TARGETS.join('\n') + '\n');
    // Slow on purpose (4 pings a second, one per target) so the cut lands in the middle of the batch.
    writeFileSync(
      join(dir, 'worker.yaml'),
      [
        `input_file: ${join(dir, 'targets.txt')}`,
        `output_file: ${join(dir, 'out.ndjson')}`,
        `spool_dir: ${join(dir, 'spool')}`,
        `health_check_port: ${HEALTH_PORT}`,
        'health_check_host: 127.0.0.1',
        'enable_traceroute: false',
        'ping_method: icmp',
        'ping_count: 1',
        'pps: 4',
        'concurrency: 2',
        'isolation_check: true',
      ].join('\n') + '\n',
    );
  });

  after(async () => {
    if (worker && worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await worker?.exited;
    await lab?.teardown();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  const output = (): Result[] => {
    const file = join(dir, 'out.ndjson');
    return existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Result)
      : [];
  };

  const health = async (): Promise<{ network: { state: string; held_targets: number } }> => {
    const script = `fetch('http://127.0.0.1:${HEALTH_PORT}/health').then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(e.message); process.exit(1); })`;
    const out = await lab.exec('probe', process.execPath, ['-e', script], { timeoutMs: 10_000 });
    assert.equal(out.code, 0, `/health: ${out.stderr}`);
    return JSON.parse(out.stdout);
  };

  const waitFor = async (what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (worker!.child.exitCode !== null) throw new Error(`worker exited: ${worker!.output()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; worker output:\n${worker!.output()}`);
      await sleep(100);
    }
  };

  it('pauses while cut off, says so on /health, and measures the cut-off targets again: none reported unanswered', async () => {
    worker = spawnNode([], {}, [
      'ip',
      'netns',
      'exec',
      lab.nsName('probe'),
      process.execPath,
      '--import',
      'tsx',
      BIN_PATH,
      'ping',
      '-c',
      join(dir, 'worker.yaml'),
      '--worker-id',
      'isolated-worker',
    ]);
    await waitFor('the first answers', () => output().length >= 3);

    await lab.setLink('probe', 'r1', 'down');
    let sawIsolated = false;
    await waitFor(
      '/health to say isolated',
      async () => (sawIsolated = (await health()).network.state === 'isolated'),
      30_000,
    );
    await lab.setLink('probe', 'r1', 'up');

    await waitFor('every target measured', () => new Set(output().map((r) => r.target)).size === TARGETS.length);
    await waitFor('/health to say ok', async () => (await health()).network.state === 'ok', 30_000);
    worker.child.kill('SIGTERM');
    assert.equal((await worker.exited).code, 0, worker.output());

    assert.ok(sawIsolated);
    const pings = output().filter((r) => r.type === 'ping');
    const unanswered = pings.filter((r) => r.type === 'ping' && r.received === 0).map((r) => r.target);
    assert.deepEqual(unanswered, [], 'no target reported unanswered because of the cut');
    assert.deepEqual(pings.map((r) => r.target).sort(), [...TARGETS].sort(), 'one ping result per target');
    assert.match(worker.output(), /seems cut off/);
    const back = worker.output().match(/"remeasured":(\d+)[^\n]*network back/);
    assert.ok(back && Number(back[1]) > 0, `re-measured targets logged: ${worker.output()}`);
  });
});
