import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PingResult, Result } from '../../src/results/result-schema.js';
import { IsolationGuard } from '../../src/worker/isolation-guard.js';
import { ProbeLoop } from '../../src/worker/probe-loop.js';
import type { TargetSource } from '../../src/worker/target-source.js';
import { pingResult } from '../support/result-factory.js';
import { quietLog } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

/**
 * A fake network: `up` says whether the worker's uplink works, `dead` lists targets that never answer.
 * measure() and the canary probe read it, so a test cuts the link by flipping `up`.
 */
class FakeNet {
  up = true;
  readonly dead = new Set<string>();
  readonly measured: string[] = [];
  canaryProbes = 0;
  /** Called before each measurement returns: lets a test cut the link at a given point. */
  onMeasure?: (target: string, n: number) => void;

  answers(address: string): boolean {
    return this.up && !this.dead.has(address);
  }

  measure = async (target: string, lease: string | null): Promise<Result[]> => {
    this.measured.push(target);
    this.onMeasure?.(target, this.measured.length);
    await sleep(1);
    const r = pingResult(target, { lease }) as PingResult;
    const got = this.answers(target) ? 3 : 0;
    return [{ ...r, received: got, rtts_us: r.rtts_us.slice(0, got) }];
  };

  probeCanary = async (address: string): Promise<boolean> => {
    this.canaryProbes++;
    await sleep(1);
    return this.answers(address);
  };
}

/** Hands out `targets` once as one batch, then nothing. */
function onceSource(targets: string[]): TargetSource {
  let given = false;
  return {
    describe: () => 'test targets',
    next: () => {
      if (given) return Promise.resolve({ lease: null, targets: [], retryAfterMs: 5 });
      given = true;
      return Promise.resolve({ lease: 'L1', targets });
    },
  };
}

const addresses = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}.${i + 1}`);
const received = (r: Result) => (r.type === 'ping' ? r.received : undefined);

function setup(net: FakeNet, opts: { threshold?: number; concurrency?: number } = {}) {
  const stored: Result[] = [];
  const events: boolean[] = [];
  let remeasured = 0;
  const store = (results: Result[]) => {
    stored.push(...results);
    return Promise.resolve();
  };
  const guard = new IsolationGuard({
    probeCanary: net.probeCanary,
    store,
    log: quietLog,
    threshold: opts.threshold ?? 4,
    recheck: { firstMs: 2, maxMs: 10 },
    onIsolated: (on) => events.push(on),
    onRemeasure: () => remeasured++,
  });
  const runLoop = async (targets: string[], until: () => boolean) => {
    const loop = new ProbeLoop({
      source: onceSource(targets),
      measure: net.measure,
      store,
      log: quietLog,
      guard,
      batchSize: 100,
      concurrency: opts.concurrency ?? 2,
      cooldownMs: 60_000,
      intervalMs: 5,
    });
    loop.start();
    // A bound, not a timing assertion: a guard that stalls fails here instead of hanging the run.
    const deadline = Date.now() + 10_000;
    while (!until() && Date.now() < deadline) await sleep(5);
    await loop.stop();
    assert.ok(until(), 'the loop got there (it did not stall)');
  };
  return { guard, stored, events, runLoop, remeasured: () => remeasured };
}

describe('IsolationGuard', { skip }, () => {
  it('stores a streak of unanswered targets as it is once a later target answers', async () => {
    const net = new FakeNet();
    const live = addresses('10.0.0', 3);
    const dead = addresses('10.9.9', 3);
    for (const d of dead) net.dead.add(d);
    const { guard, stored, events, runLoop } = setup(net, { threshold: 8, concurrency: 1 });
    const targets = [...live, ...dead, '10.0.1.1'];
    await runLoop(targets, () => stored.length === targets.length);

    assert.deepEqual(stored.map((r) => r.target).sort(), [...targets].sort());
    for (const r of stored) assert.equal(received(r), dead.includes(r.target) ? 0 : 3, r.target);
    assert.deepEqual(events, [], 'never isolated');
    assert.equal(net.canaryProbes, 0, 'the answer settled the streak, no canary needed');
    assert.equal(net.measured.length, targets.length, 'each target measured once');
    assert.equal(guard.state, 'ok');
  });

  it('a streak that reaches the threshold with a canary answering is stored as real "no answer" results', async () => {
    const net = new FakeNet();
    const dead = addresses('10.9.9', 10);
    for (const d of dead) net.dead.add(d);
    const { stored, events, runLoop } = setup(net, { threshold: 4 });
    const targets = ['10.0.0.1', ...dead];
    await runLoop(targets, () => stored.length === targets.length);
    assert.deepEqual(events, []);
    assert.equal(stored.filter((r) => received(r) === 0).length, dead.length);
    assert.equal(net.measured.length, targets.length);
  });

  it('when the link dies, holds the results, pauses, and after recovery measures the held targets again', async () => {
    const net = new FakeNet();
    const targets = addresses('10.0.0', 30);
    const { guard, stored, events, runLoop, remeasured } = setup(net, { threshold: 4, concurrency: 2 });
    let sawIsolated = false;
    let measuredWhileIsolated = 0;
    net.onMeasure = (_t, n) => {
      if (guard.state === 'isolated') measuredWhileIsolated++;
      if (n === 8) {
        // Cut after 7 answers; heal once the guard has noticed and paused.
        net.up = false;
        void (async () => {
          while (guard.state !== 'isolated') await sleep(1);
          sawIsolated = true;
          assert.ok(guard.status().held_targets >= 4, 'the unanswered results are held, not stored');
          assert.ok(
            stored.every((r) => received(r) === 3),
            'nothing unanswered stored while cut off',
          );
          await sleep(20);
          net.up = true;
        })();
      }
    };
    await runLoop(targets, () => new Set(stored.map((r) => r.target)).size === targets.length);

    assert.ok(sawIsolated, 'the guard saw the worker cut off');
    assert.deepEqual(events, [true, false]);
    assert.equal(measuredWhileIsolated, 0, 'no new target taken while cut off');
    assert.equal(
      stored.length,
      targets.length,
      'one result per target: the results measured while cut off were dropped',
    );
    for (const r of stored) assert.equal(received(r), 3, `${r.target} answered`);
    assert.ok(remeasured() >= 4, `re-measured ${remeasured()}`);
    assert.equal(net.measured.length, targets.length + remeasured());
  });

  it('with no canary known yet it cannot judge, so it stores the streak rather than stall', async () => {
    const net = new FakeNet();
    const dead = addresses('10.9.9', 10);
    for (const d of dead) net.dead.add(d);
    const { stored, events, runLoop } = setup(net, { threshold: 4 });
    await runLoop(dead, () => stored.length === dead.length);
    assert.deepEqual(events, []);
    assert.ok(stored.every((r) => received(r) === 0));
  });

  it('a short streak at the end of a batch is judged then, not held until some later answer', async () => {
    const net = new FakeNet();
    net.dead.add('10.9.9.1');
    const { stored, runLoop } = setup(net, { threshold: 8, concurrency: 1 });
    await runLoop(['10.0.0.1', '10.9.9.1'], () => stored.length === 2);
    assert.deepEqual(stored.map(received), [3, 0]);
  });

  it('stopping while cut off stores the held results as they were measured', async () => {
    const net = new FakeNet();
    const targets = addresses('10.0.0', 30);
    const { guard, stored, runLoop } = setup(net, { threshold: 4, concurrency: 2 });
    net.onMeasure = (_t, n) => {
      if (n === 5) net.up = false;
    };
    // Never healed: stop once the guard has paused probing.
    await runLoop(targets, () => guard.state === 'isolated');
    const unanswered = stored.filter((r) => received(r) === 0);
    assert.ok(unanswered.length >= 4, `held results stored at stop (${unanswered.length})`);
    assert.equal(stored.length, net.measured.length, 'every measurement made was stored');
    assert.ok(net.measured.length < targets.length, 'the rest of the batch was left to its lease');
    assert.equal(guard.status().held_targets, 0);
  });

  it('stopping while a streak is held (not yet judged) stores it', async () => {
    const net = new FakeNet();
    const stored: Result[] = [];
    const guard = new IsolationGuard({
      probeCanary: net.probeCanary,
      store: (r) => {
        stored.push(...r);
        return Promise.resolve();
      },
      log: quietLog,
      threshold: 8,
    });
    await guard.record({ target: '10.0.0.1', lease: null }, await net.measure('10.0.0.1', null));
    net.dead.add('10.9.9.1');
    await guard.record({ target: '10.9.9.1', lease: null }, await net.measure('10.9.9.1', null));
    assert.equal(stored.length, 1);
    assert.equal(guard.status().held_targets, 1);
    await guard.stop();
    assert.deepEqual(stored.map(received), [3, 0]);
  });
});
