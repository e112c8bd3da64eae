import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { buildLab } from '../../src/lab/build-lab.js';
import type { Lab } from '../../src/lab/open-lab.js';
import { loadTopology } from '../../src/lab/topology.js';
import { judgeHealth } from '../../src/manager/registry/judge-health.js';
import type { Result } from '../../src/results/result-schema.js';
import { BIN_PATH, PROJECT_ROOT } from '../../src/version.js';
import type { NetworkHealth } from '../../src/worker/network-health.js';
import { removeStaleTestLabs, testLabName } from '../lab/test-lab-name.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { needs } from '../support/needs.js';

const skip = needs('root', 'ip');

const TAG = 'tquiet';
const HEALTH_PORT = 18094;
// The chain's target /28: every address answers ping once the probe host has a way there.
const TARGETS = Array.from({ length: 14 }, (_, i) => `198.19.1.${i + 1}`);
const WARNING = 'no answer to any probe since the worker started';
const CLEARED = 'first answer heard';
const times = (text: string, line: string) => text.split(line).length - 1;

interface Health {
  status: string;
  network: NetworkHealth;
}

describe('a worker that has never heard an answer', { skip }, () => {
  let lab: Lab;
  let dir: string;
  let worker: Spawned | undefined;

  before(async () => {
    await removeStaleTestLabs(TAG);
    lab = await buildLab(loadTopology(`${PROJECT_ROOT}/lab/chain.yaml`), { name: testLabName(TAG) });
    // No network at all: the probe host's only link is down, so it has no route but loopback.
    await lab.setLink('probe', 'r1', 'down');
    dir = mkdtempSync(join(tmpdir(), 'hopmap-silence-'));
    writeFileSync(join(dir, 'targets.txt'), TARGETS.join('\n') + '\n');
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
        'pps: 50',
        'concurrency: 4',
        'batch_size: 14',
        // The file is walked again and again: without the trickle the worker would ping 50 targets a second.
        'cooldown_minutes: 0',
        'interval_seconds: 0.5',
        'no_answers_after_probes: 12',
        'no_answers_after_targets: 6',
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

  const pings = () => {
    const file = join(dir, 'out.ndjson');
    return existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Result)
          .filter((r) => r.type === 'ping')
      : [];
  };

  const health = async (): Promise<Health> => {
    const script = `fetch('http://127.0.0.1:${HEALTH_PORT}/health').then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(e.message); process.exit(1); })`;
    const out = await lab.exec('probe', process.execPath, ['-e', script], { timeoutMs: 10_000 });
    assert.equal(out.code, 0, `/health: ${out.stderr}`);
    return JSON.parse(out.stdout) as Health;
  };

  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await probe();
      if (got !== undefined) return got;
      if (worker!.child.exitCode !== null) throw new Error(`worker exited: ${worker!.output()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; worker output:\n${worker!.output()}`);
      await sleep(100);
    }
  };

  it('says degraded (no_answers) with one warning, trickles, and clears with one info line once answers come', async () => {
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
      'silent-worker',
    ]);
    await worker.waitFor(/worker running/, 60_000);

    const silent = await waitFor('/health to say no_answers', async () => {
      const h = await health();
      return h.network.state === 'no_answers' ? h : undefined;
    });
    assert.equal(silent.status, 'degraded');
    const n = silent.network;
    assert.ok(n.unanswered_probes! >= 12 && n.unanswered_targets! >= 6, JSON.stringify(n));
    assert.equal(n.answers_heard, 0);
    assert.equal(n.first_answer_at, null);
    assert.ok(n.since && n.first_probe_at && n.since >= n.first_probe_at, JSON.stringify(n));
    assert.match(n.reason ?? '', /^no_answers: none of \d+ probes to \d+ targets was answered since/);

    // What the manager records and shows for this worker (the registry's poll runs this on every /health).
    const verdict = judgeHealth(`http://silent-worker:${HEALTH_PORT}/health`, {
      answer: { status: 200, json: silent, text: '' },
    });
    assert.equal(verdict.status, 'degraded');
    assert.match(verdict.error ?? '', /^degraded: no_answers: none of \d+ probes/);

    // The trickle: batches of at most 10 targets, 0.5 s, 1 s, 2 s … apart, not 50 pings a second.
    const before = pings().length;
    await sleep(4_000);
    const during = pings().length - before;
    assert.ok(during <= 40, `${during} targets pinged in 4 s with no answers (50 a second without the trickle)`);
    assert.equal(times(worker.output(), WARNING), 1, `one warning:\n${worker.output()}`);

    // The network comes up: the first answer clears it.
    await lab.setLink('probe', 'r1', 'up');
    const heard = await waitFor('/health to say ok', async () => {
      const h = await health();
      return h.network.state === 'ok' ? h : undefined;
    });
    assert.equal(heard.status, 'ok', JSON.stringify(heard));
    assert.equal(heard.network.reason, undefined);
    assert.ok(heard.network.answers_heard > 0 && heard.network.first_answer_at, JSON.stringify(heard.network));
    assert.equal(
      judgeHealth('http://w/health', { answer: { status: 200, json: heard, text: '' } }).status,
      'ok',
      'the manager shows it ok again',
    );
    await waitFor('answered pings stored', () =>
      Promise.resolve(pings().some((r) => r.type === 'ping' && r.received > 0) ? true : undefined),
    );

    worker.child.kill('SIGTERM');
    assert.equal((await worker.exited).code, 0, worker.output());
    const out = worker.output();
    assert.equal(times(out, WARNING), 1, 'one warning in all');
    assert.equal(times(out, CLEARED), 1, 'one info line when it cleared');
    const line = (text: string) => out.split('\n').find((l) => l.includes(text)) ?? '';
    assert.match(line(WARNING), /"level":40/);
    assert.match(line(CLEARED), /"level":30/);
  });
});
