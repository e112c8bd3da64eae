import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { buildLab } from '../../src/lab/build-lab.js';
import type { Lab } from '../../src/lab/open-lab.js';
import { loadTopology } from '../../src/lab/topology.js';
import { BIN_PATH, PROJECT_ROOT } from '../../src/version.js';
import { removeStaleTestLabs, testLabName } from '../lab/test-lab-name.js';
import { assertNoLeaks } from '../support/leaks.js';
import { ResultsReceiver } from '../support/results-receiver.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { needs } from '../support/needs.js';

const skip = needs('root', 'ip');

const TAG = 'tworker';
const TARGETS = Array.from({ length: 12 }, (_, i) => `198.19.100.${i + 10}`);

describe('the probe worker on the lab', { skip }, () => {
  let lab: Lab;
  let dir: string;
  const procs: Spawned[] = [];

  /** `hopmap ping` as its own process inside the probe host's namespace. */
  const nsWorker = (args: string[], env: Record<string, string> = {}) => {
    const proc = spawnNodeInNs(
      lab.nsName('probe'),
      [BIN_PATH, 'ping', '--worker-id', 'lab-worker', '--log-level', 'info', ...args],
      env,
    );
    procs.push(proc);
    return proc;
  };

  const spooled = (spoolDir: string) =>
    (existsSync(spoolDir) ? readdirSync(spoolDir) : [])
      .filter((f) => f.endsWith('.ndjson'))
      .reduce((n, f) => n + readFileSync(join(spoolDir, f), 'utf8').split('\n').filter(Boolean).length, 0);

  before(async () => {
    await removeStaleTestLabs(TAG);
    lab = await buildLab(loadTopology(`${PROJECT_ROOT}/lab/diamond.yaml`), { name: testLabName(TAG) });
    dir = mkdtempSync(join(tmpdir(), 'hopmap-worker-'));
    writeFileSync(join(dir, 'targets.txt'), TARGETS.join('\n') + '\n');
  });

  after(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await lab?.teardown();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('delivers every result exactly once after the output returns, across a worker restart', async () => {
    const receiver = new ResultsReceiver(join(dir, 'output.sock'));
    const spoolDir = join(dir, 'spool');
    const common = [
      '--input-file',
      join(dir, 'targets.txt'),
      '--output-file',
      receiver.url,
      '--spool-dir',
      spoolDir,
      '--health-check-port',
      '18091',
      '--pps',
      '500',
    ];

    // The output is away: results pile up in the spool. At SIGTERM the worker tries to deliver them for its
    // shutdown_flush (30 s by default), then leaves them spooled: 2 s is as good a try against an output that is away.
    const first = nsWorker(common, { HOPMAP_SHUTDOWN_FLUSH: '2s' });
    await waitFor(() => spooled(spoolDir) >= TARGETS.length * 2, first);
    first.child.kill('SIGTERM');
    assert.equal((await first.exited).code, 0, first.output());
    const afterFirst = spooled(spoolDir);
    assert.ok(afterFirst >= TARGETS.length * 2, `a ping and a traceroute per target kept (${afterFirst})`);

    // Restarted, still without its output: it probes again (its cooldowns were in memory) and keeps everything.
    const second = nsWorker(common);
    await waitFor(() => spooled(spoolDir) >= afterFirst + TARGETS.length * 2, second);

    // The output returns: the backlog drains, in order, each result once.
    await receiver.start();
    await waitFor(() => receiver.ids.length >= afterFirst + TARGETS.length * 2, second);
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0, second.output());
    await receiver.stop();

    assert.equal(new Set(receiver.ids).size, receiver.ids.length, 'no result delivered twice');
    const pings = receiver.results.filter((r) => r.type === 'ping');
    const traces = receiver.results.filter((r) => r.type === 'traceroute');
    for (const t of TARGETS) {
      assert.ok(pings.filter((p) => p.target === t).length >= 2, `${t} pinged in both runs`);
      // Traced to the end, or as far as the Doubletree stop set did not already know the path.
      assert.ok(
        traces.some((r) => r.target === t && (r.reached === true || r.stop === 'stop-set')),
        `${t} traced`,
      );
    }
    for (const p of pings) assert.equal(p.received, 3);
  });

  it('holds the packets-per-second cap within 10% over a 10-second window', async () => {
    const many = join(dir, 'many.txt');
    writeFileSync(many, Array.from({ length: 250 }, (_, i) => `198.19.100.${i + 1}`).join('\n'));
    const pps = 80;
    const worker = nsWorker([
      '--input-file',
      many,
      '--output-file',
      join(dir, 'out.ndjson'),
      '--spool-dir',
      join(dir, 'spool-pps'),
      '--health-check-port',
      '18092',
      '--pps',
      String(pps),
      '--concurrency',
      '64',
    ]);
    await worker.waitFor(/worker running/);
    await sleep(2_000);
    const iface = lab.plan.nodes.get('probe')!.interfaces[0]!.ifname;
    const txBefore = await txPackets(lab, iface);
    await sleep(10_000);
    const txAfter = await txPackets(lab, iface);
    worker.child.kill('SIGTERM');
    await worker.exited;
    const rate = (txAfter - txBefore) / 10;
    assert.ok(rate <= pps * 1.1, `sent ${rate} packets/s with a cap of ${pps}`);
    // Only a floor against a stalled worker: a loaded CI machine may run slower, never faster.
    assert.ok(rate >= pps * 0.5, `sent only ${rate} packets/s`);
  });
});

function spawnNodeInNs(ns: string, args: string[], env: Record<string, string> = {}): Spawned {
  return spawnNode([], env, ['ip', 'netns', 'exec', ns, process.execPath, '--import', 'tsx', ...args]);
}

async function txPackets(lab: Lab, iface: string): Promise<number> {
  const res = await lab.exec('probe', 'cat', [`/sys/class/net/${iface}/statistics/tx_packets`]);
  return Number(res.stdout.trim());
}

async function waitFor(cond: () => boolean, proc: Spawned, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (proc.child.exitCode !== null) throw new Error(`worker exited: ${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out; worker output:\n${proc.output()}`);
    await sleep(100);
  }
}
