import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/log/create-logger.js';
import type { Result } from '../../src/results/result-schema.js';
import { ProbeLoop } from '../../src/worker/probe-loop.js';
import type { TargetBatch, TargetSource } from '../../src/worker/target-source.js';
import { pingResult } from '../support/result-factory.js';

const log = createLogger({ level: 'silent', pretty: false });

/** Hands out the given batches in turn (lease L1, L2 …), then nothing; records what each call asked for. */
function batches(...lists: string[][]): TargetSource & { asked: number[] } {
  const asked: number[] = [];
  let i = 0;
  return {
    asked,
    describe: () => 'test batches',
    next: (n: number): Promise<TargetBatch> => {
      asked.push(n);
      const targets = lists[i++];
      return Promise.resolve(targets ? { lease: `L${i}`, targets } : { lease: null, targets: [], retryAfterMs: 1 });
    },
  };
}

/** A measurement per target that ends only when the test says so. */
class HeldMeasurements {
  readonly started: string[] = [];
  readonly leases = new Map<string, string | null>();
  private readonly release = new Map<string, () => void>();
  private readonly waiters: Array<{ ok: () => boolean; resolve: () => void }> = [];

  measure = async (target: string, lease: string | null): Promise<Result[]> => {
    this.started.push(target);
    this.leases.set(target, lease);
    this.poke();
    await new Promise<void>((resolve) => this.release.set(target, resolve));
    return [pingResult(target, { lease })];
  };

  finish(...targets: string[]): void {
    for (const t of targets) this.release.get(t)!();
  }

  /** Resolves once `ok()` holds (checked whenever a measurement starts). */
  until(ok: () => boolean): Promise<void> {
    if (ok()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ok, resolve }));
  }

  private poke(): void {
    for (const w of this.waiters.splice(0))
      if (w.ok()) w.resolve();
      else this.waiters.push(w);
  }
}

/** A started loop of 3-target batches over `net`, storing into `stored`. */
function startLoop(
  source: TargetSource,
  net: HeldMeasurements,
  opts: { concurrency: number; stored?: Result[]; silence?: { silent: boolean } },
): ProbeLoop {
  const loop = new ProbeLoop({
    source,
    measure: net.measure,
    store: (r) => (opts.stored?.push(...r), Promise.resolve()),
    log,
    batchSize: 3,
    concurrency: opts.concurrency,
    cooldownMs: 0,
    intervalMs: 1,
    ...(opts.silence && { silence: opts.silence }),
  });
  loop.start();
  return loop;
}

describe('ProbeLoop: batches overlap', { timeout: 10_000 }, () => {
  it('fetches and measures the next batch while one slow target of the last is still being measured', async () => {
    const net = new HeldMeasurements();
    const stored: Result[] = [];
    const source = batches(['a1', 'a2', 'a3'], ['b1', 'b2']);
    const loop = startLoop(source, net, { concurrency: 4, stored });
    await net.until(() => net.started.length === 3);
    net.finish('a1', 'a2');
    // a3 is still under way: its batch's slow target no longer holds the next batch back.
    await net.until(() => net.started.includes('b1') && net.started.includes('b2'));
    assert.equal(net.leases.get('b1'), 'L2', 'each target keeps the lease of its own batch');
    assert.equal(net.leases.get('a3'), 'L1');
    net.finish('b1', 'b2', 'a3');
    await loop.stop();
    assert.deepEqual(stored.map((r) => r.target).sort(), ['a1', 'a2', 'a3', 'b1', 'b2']);
  });

  it('never measures more than `concurrency` targets at once, and leases no batch while one still waits for slots', async () => {
    const net = new HeldMeasurements();
    const source = batches(['a1', 'a2', 'a3'], ['b1', 'b2', 'b3'], ['c1']);
    const loop = startLoop(source, net, { concurrency: 4 });
    await net.until(() => net.started.length === 4);
    // Let the loop run: with b2 and b3 waiting for a slot, it must not fetch the third batch.
    await new Promise((r) => setImmediate(r));
    assert.equal(net.started.length, 4);
    assert.equal(source.asked.length, 2, 'no third lease while the second batch waits');
    net.finish('a1');
    await net.until(() => net.started.length === 5);
    assert.equal(net.started[4], 'b2');
    net.finish('a2', 'a3', 'b1');
    await net.until(() => net.started.includes('c1'));
    net.finish('b2', 'b3', 'c1');
    await loop.stop();
  });

  it('once the worker turns out never to have heard an answer, it measures no more of a full batch it fetched before', async () => {
    const net = new HeldMeasurements();
    const silence = { silent: false };
    const source = batches(['a1', 'a2'], ['b1', 'b2', 'b3'], ['c1']);
    const loop = startLoop(source, net, { concurrency: 2, silence });
    await net.until(() => net.started.length === 2);
    while (source.asked.length < 2) await new Promise((r) => setImmediate(r));
    silence.silent = true;
    net.finish('a1', 'a2');
    // b1-b3 are left to their lease; the next fetch is a trickle batch (at most 10 targets, after a pause).
    await net.until(() => net.started.includes('c1'));
    assert.deepEqual(net.started, ['a1', 'a2', 'c1']);
    net.finish('c1');
    await loop.stop();
  });

  it('stop() measures every target already leased and stores it before it returns', async () => {
    const net = new HeldMeasurements();
    const stored: Result[] = [];
    const loop = startLoop(batches(['a1', 'a2', 'a3']), net, { concurrency: 2, stored });
    await net.until(() => net.started.length === 2);
    const stopped = loop.stop();
    net.finish('a1', 'a2');
    await net.until(() => net.started.length === 3);
    net.finish('a3');
    await stopped;
    assert.deepEqual(stored.map((r) => r.target).sort(), ['a1', 'a2', 'a3']);
  });
});
