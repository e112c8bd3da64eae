import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/log/create-logger.js';
import { judgeHealth } from '../../src/manager/registry/judge-health.js';
import type { Result } from '../../src/results/result-schema.js';
import { networkHealth } from '../../src/worker/network-health.js';
import { ProbeLoop } from '../../src/worker/probe-loop.js';
import {
  SilenceWatch,
  TRICKLE_BATCH,
  TRICKLE_MAX_WAIT_MS,
  trickleWaitMs,
  type SilenceThresholds,
} from '../../src/worker/silence-watch.js';
import type { TargetSource } from '../../src/worker/target-source.js';
import { workerConfig } from '../../src/worker/worker-config.js';

/** Records what the watch logs, by level. */
class LogRecorder {
  readonly lines: Array<{ level: 'warn' | 'info'; fields: object; msg: string }> = [];
  warn(fields: object, msg: string): void {
    this.lines.push({ level: 'warn', fields, msg });
  }
  info(fields: object, msg: string): void {
    this.lines.push({ level: 'info', fields, msg });
  }
  count(level: 'warn' | 'info'): number {
    return this.lines.filter((l) => l.level === level).length;
  }
}

const T0 = Date.parse('2026-03-01T12:00:00Z');

function setup(thresholds: SilenceThresholds = { probes: 12, targets: 4 }) {
  let now = T0;
  const log = new LogRecorder();
  const changes: boolean[] = [];
  const watch = new SilenceWatch({ thresholds, log, now: () => now, onChange: (on) => changes.push(on) });
  /** `pings` unanswered pings to each of `targets`, one second apart. */
  const silentSweep = (targets: string[], pings = 3) => {
    for (const t of targets)
      for (let i = 0; i < pings; i++) {
        watch.probe(t, false);
        now += 1_000;
      }
  };
  return { watch, log, changes, silentSweep, advance: (ms: number) => (now += ms) };
}

const addresses = (n: number, prefix = '198.18.7') => Array.from({ length: n }, (_, i) => `${prefix}.${i + 1}`);

describe('SilenceWatch: a worker that has never heard an answer', () => {
  it('says no_answers once enough pings to enough distinct targets went unanswered, with one warning', () => {
    const { watch, log, changes, silentSweep } = setup();
    silentSweep(addresses(3)); // 9 pings, 3 targets: neither threshold
    assert.equal(watch.status().state, 'listening');
    silentSweep(addresses(1, '198.18.8')); // 12 pings, 4 targets: both
    assert.equal(watch.silent, true);
    assert.deepEqual(watch.status(), {
      state: 'no_answers',
      probes_sent: 12,
      answers_heard: 0,
      unanswered_targets: 4,
      unanswered_probes: 12,
      first_probe_at: '2026-03-01T12:00:00.000Z',
      first_answer_at: null,
      since: '2026-03-01T12:00:11.000Z',
    });
    silentSweep(addresses(50, '198.18.9'));
    assert.equal(log.count('warn'), 1, 'one warning, not one per probe');
    assert.deepEqual(log.lines[0]!.fields, {
      probes: 12,
      targets: 4,
      firstProbeAt: '2026-03-01T12:00:00.000Z',
      trickleBatch: TRICKLE_BATCH,
    });
    assert.match(log.lines[0]!.msg, /no answer to any probe since the worker started/);
    assert.deepEqual(changes, [true]);
    assert.equal(watch.status().unanswered_probes, 12 + 150);
    assert.equal(watch.status().unanswered_targets, 54);
  });

  it('a few dead targets pinged many times are not enough: the targets threshold holds', () => {
    const { watch, silentSweep } = setup({ probes: 12, targets: 4 });
    silentSweep(addresses(3), 20);
    assert.equal(watch.status().unanswered_probes, 60);
    assert.equal(watch.silent, false);
    silentSweep(['198.18.7.1', '198.18.7.2'], 5); // the same targets again do not count twice
    assert.equal(watch.status().unanswered_targets, 3);
    assert.equal(watch.silent, false);
  });

  it('the first answer clears it for good, with one info line; later silence is not its business', () => {
    const { watch, log, changes, silentSweep, advance } = setup();
    silentSweep(addresses(5));
    assert.equal(watch.silent, true);
    advance(60_000);
    watch.probe('198.18.7.99', true);
    assert.equal(watch.silent, false);
    assert.deepEqual(changes, [true, false]);
    assert.equal(log.count('info'), 1);
    assert.match(log.lines[1]!.msg, /first answer heard/);
    assert.deepEqual(log.lines[1]!.fields, { silentMs: 64_000, unansweredProbes: 15, unansweredTargets: 5 });
    const heard = watch.status();
    assert.equal(heard.state, 'heard');
    assert.equal(heard.first_answer_at, '2026-03-01T12:01:15.000Z');
    assert.equal(heard.since, null);

    silentSweep(addresses(100, '198.18.10'));
    watch.probe('198.18.7.99', true);
    assert.equal(watch.silent, false, 'a worker that heard answers and then loses its network: the isolation guard');
    assert.deepEqual(changes, [true, false]);
    assert.equal(log.lines.length, 2);
    assert.deepEqual(
      { ...watch.status(), first_probe_at: null, first_answer_at: null },
      {
        state: 'heard',
        probes_sent: 15 + 1 + 300 + 1,
        answers_heard: 2,
        unanswered_targets: 5,
        unanswered_probes: 15,
        first_probe_at: null,
        first_answer_at: null,
        since: null,
      },
    );
  });

  it('an answer before the thresholds: nothing logged, never degraded', () => {
    const { watch, log, changes, silentSweep } = setup();
    silentSweep(addresses(3));
    watch.probe('198.18.7.3', true);
    silentSweep(addresses(30, '198.18.11'));
    assert.equal(watch.status().state, 'heard');
    assert.deepEqual(changes, []);
    assert.deepEqual(log.lines, []);
  });

  it('probes: 0 turns it off', () => {
    const { watch, log, silentSweep } = setup({ probes: 0, targets: 1 });
    silentSweep(addresses(100));
    assert.equal(watch.status().state, 'off');
    assert.equal(watch.silent, false);
    assert.deepEqual(log.lines, []);
  });
});

describe('the trickle while a worker has no answers', () => {
  it('waits the interval, doubling, up to 5 min (and never less than the interval)', () => {
    const waits = Array.from({ length: 10 }, (_, n) => trickleWaitMs(5_000, n));
    assert.deepEqual(waits, [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000, 300_000]);
    assert.equal(trickleWaitMs(600_000, 3), 600_000);
    assert.equal(trickleWaitMs(100, 5_000), TRICKLE_MAX_WAIT_MS);
  });

  it('the probe loop fetches small batches further apart while silent, and full ones at once after', async () => {
    const asked: Array<{ n: number; at: number }> = [];
    let served = 0;
    const source: TargetSource = {
      describe: () => 'test targets',
      next: async (n) => {
        asked.push({ n, at: performance.now() });
        const targets = addresses(n, `198.18.${20 + (served++ % 200)}`);
        // A macrotask, like a real fetch: a loop of microtasks alone would never let a timer run.
        await new Promise((r) => setImmediate(r));
        return { lease: null, targets };
      },
    };
    const silence = { silent: true };
    const loop = new ProbeLoop({
      source,
      measure: async () => Promise.resolve([] as Result[]),
      store: async () => Promise.resolve(),
      log: createLogger({ level: 'silent', pretty: false }),
      batchSize: 50,
      concurrency: 4,
      cooldownMs: 0,
      intervalMs: 20,
      silence,
    });
    loop.start();
    await until(() => asked.length >= 4);
    silence.silent = false;
    await until(() => asked.length >= 8);
    await loop.stop();
    const silentBatches = asked.slice(0, 4);
    assert.ok(
      silentBatches.every((b) => b.n === TRICKLE_BATCH),
      `small batches: ${JSON.stringify(silentBatches)}`,
    );
    const gaps = silentBatches.slice(1).map((b, i) => b.at - silentBatches[i]!.at);
    // 40 ms, then 80, then 160 (the first wait, 20 ms, comes before the first fetch).
    assert.ok(gaps[0]! >= 35 && gaps[1]! >= 75 && gaps[2]! >= 155, `further and further apart: ${gaps.join(', ')}`);
    assert.equal(asked.at(-1)!.n, 50, 'full batches once an answer came');
  });
});

async function until(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('network on /health, and what the manager makes of it', () => {
  const { watch, silentSweep } = setup();
  silentSweep(addresses(5));
  const ok = { state: 'ok' as const, since: null, held_targets: 0 };

  it('no_answers: a reason with the figures, and the manager shows it', () => {
    const network = networkHealth(ok, watch.status());
    assert.equal(network.state, 'no_answers');
    assert.equal(network.since, '2026-03-01T12:00:11.000Z');
    assert.equal(network.unanswered_probes, 15);
    assert.equal(network.unanswered_targets, 5);
    assert.match(
      network.reason ?? '',
      /^no_answers: none of 15 probes to 5 targets was answered since the worker's first probe at 2026-03-01T12:00:00.000Z/,
    );
    const verdict = judgeHealth('http://w/health', {
      answer: { status: 200, json: { status: 'degraded', network }, text: '' },
    });
    assert.equal(verdict.status, 'degraded');
    assert.match(verdict.error ?? '', /^degraded: no_answers: none of 15 probes to 5 targets/);
    assert.deepEqual(verdict.details?.network, network, 'the figures kept for the workers page');
  });

  it('isolated (the guard) is degraded too, with its own reason; ok and checking are not', () => {
    const heard = setup();
    heard.watch.probe('198.18.7.1', true);
    const isolated = networkHealth(
      { state: 'isolated', since: '2026-03-01T13:00:00.000Z', held_targets: 7 },
      heard.watch.status(),
    );
    assert.equal(isolated.state, 'isolated');
    assert.match(isolated.reason ?? '', /^isolated: .* since 2026-03-01T13:00:00.000Z; probing paused, 7 targets held/);
    for (const state of ['ok', 'checking'] as const)
      assert.equal(networkHealth({ ...ok, state }, heard.watch.status()).reason, undefined, state);
    assert.equal(networkHealth(undefined, heard.watch.status()).state, 'unchecked');
    assert.equal(networkHealth(undefined, watch.status()).state, 'no_answers', 'without the guard too');
  });
});

describe('worker config: no_answers_after_probes and no_answers_after_targets', () => {
  const base = { inputFile: 'targets.txt', outputFile: 'out.ndjson' };
  it('default to 200 probes over 20 targets', () => {
    const cfg = workerConfig.parse(base);
    assert.equal(cfg.noAnswersAfterProbes, 200);
    assert.equal(cfg.noAnswersAfterTargets, 20);
  });
  it('0 probes turns the watch off; targets must be positive and at most the probes', () => {
    assert.equal(workerConfig.parse({ ...base, noAnswersAfterProbes: '0' }).noAnswersAfterProbes, 0);
    const issues = (v: Record<string, unknown>) =>
      workerConfig.safeParse({ ...base, ...v }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    assert.deepEqual(issues({ noAnswersAfterProbes: '10', noAnswersAfterTargets: '11' }), [
      'noAnswersAfterTargets: at most no_answers_after_probes (10): every target takes at least one probe',
    ]);
    assert.equal(issues({ noAnswersAfterProbes: '-1' }).length, 1);
    assert.equal(issues({ noAnswersAfterProbes: '2.5' }).length, 1);
    assert.equal(issues({ noAnswersAfterTargets: '0' }).length, 1);
  });
});
