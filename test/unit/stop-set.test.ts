import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StopSet } from '../../src/probe/stop-set.js';
import { traceDoubletree, type TraceResult } from '../../src/probe/traceroute.js';
import { chain, ScriptedSender, type ScriptedNetwork } from './support/scripted-network.js';

const R = (i: number) => `10.0.0.${i}`;
const addresses = (r: TraceResult) => r.hops.map((h) => h.probes.find((p) => p)?.from ?? null);

/** The same 6 routers toward every address of 192.0.2.0/24 (and of 198.51.100.0/24 after R(6)). */
const into = (dst: string): ScriptedNetwork => chain(6, dst);

/** A full trace of `path` (TTL order from 1) toward `dst`. */
const learnPath = (s: StopSet, dst: string, path: Array<string | null>, localHorizon: number) =>
  s.learn(dst, { flow: 1, hops: path.map((from, i) => ({ ttl: i + 1, from })), localHorizon, full: true });

describe('StopSet', () => {
  const rows: Array<{
    name: string;
    learn: Array<[string, Array<string | null>, number]>;
    ask: [string, string];
    remaining: number | undefined;
  }> = [
    {
      name: 'knows the hops left after an interface, toward the same /24',
      learn: [['192.0.2.9', [R(1), R(2), R(3), '192.0.2.9'], 1]],
      ask: [R(2), '192.0.2.77'],
      remaining: 2,
    },
    {
      name: 'not toward another /24',
      learn: [['192.0.2.9', [R(1), R(2), R(3), '192.0.2.9'], 1]],
      ask: [R(2), '192.0.3.9'],
      remaining: undefined,
    },
    {
      name: 'counts from the last answered hop, over silent ones',
      learn: [['192.0.2.9', [R(1), null, R(3), null], 1]],
      ask: [R(1), '192.0.2.1'],
      remaining: 2,
    },
    {
      name: 'IPv6 destinations pair by /48',
      learn: [['2001:db8:1:2::9', [R(1), R(2), '2001:db8:1:2::9'], 1]],
      ask: [R(1), '2001:db8:1:ffff::1'],
      remaining: 2,
    },
    {
      name: 'not another /48',
      learn: [['2001:db8:1:2::9', [R(1), R(2), '2001:db8:1:2::9'], 1]],
      ask: [R(1), '2001:db8:2::1'],
      remaining: undefined,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const s = new StopSet();
      for (const [dst, path, horizon] of row.learn) learnPath(s, dst, path, horizon);
      assert.equal(s.remainingAfter(...row.ask), row.remaining);
    });
  }

  it('keeps as near the worker only interfaces at or below the horizon', () => {
    const s = new StopSet();
    learnPath(s, '192.0.2.9', [R(1), R(2), R(3), R(4)], 2);
    assert.deepEqual(
      [R(1), R(2), R(3), R(4)].map((a) => s.knownNearWorker(a)),
      [true, true, false, false],
    );
  });

  it('starts over when the global set outgrows its bound', () => {
    const s = new StopSet({ maxEntries: 2 });
    for (const n of [1, 2, 3, 4]) learnPath(s, `192.0.${n}.9`, [R(1), `192.0.${n}.9`], 0);
    assert.equal(s.remainingAfter(R(1), '192.0.1.1'), undefined, 'the oldest pairs went');
    assert.equal(s.remainingAfter(R(1), '192.0.4.1'), 1);
  });
});

describe('Doubletree (traceDoubletree) over a scripted network', () => {
  it('the first trace probes forward from startTtl, then back to TTL 1, and saves nothing', async () => {
    const stopSet = new StopSet();
    const r = await traceDoubletree('192.0.2.9', 'icmp-paris', 1, new ScriptedSender(into('192.0.2.9')).paris(1), {
      stopSet,
      startTtl: 3,
    });
    assert.deepEqual(addresses(r), [R(1), R(2), R(3), R(4), R(5), R(6), '192.0.2.9']);
    assert.deepEqual(
      r.hops.map((h) => h.ttl),
      [1, 2, 3, 4, 5, 6, 7],
    );
    assert.equal(r.stop, 'reached');
    assert.equal(r.probesSent, 7, 'one probe per answered hop');
    assert.equal(r.probesSaved, 0);
  });

  it('a second trace into the same /24 stops at the known (interface, /24) pair and back at a known near interface', async () => {
    const stopSet = new StopSet();
    await traceDoubletree('192.0.2.9', 'icmp-paris', 1, new ScriptedSender(into('192.0.2.9')).paris(1), {
      stopSet,
      startTtl: 3,
    });
    const sender = new ScriptedSender(into('192.0.2.10'));
    const r = await traceDoubletree('192.0.2.10', 'icmp-paris', 1, sender.paris(1), { stopSet, startTtl: 3 });
    assert.equal(r.stop, 'stop-set');
    assert.equal(r.reached, false);
    assert.deepEqual(addresses(r), [R(2), R(3)], 'forward: TTL 3 is a known pair; backward: TTL 2 is near the worker');
    assert.equal(r.probesSent, 2);
    assert.equal(r.probesSaved, 4 + 1, 'TTL 4-7 forward, TTL 1 backward, one probe each');
    assert.equal(sender.sent.length, 2);
    assert.equal(stopSet.saved, 5);
  });

  it('a destination in another /24 is traced forward to the end (the pair is per /24)', async () => {
    const stopSet = new StopSet();
    await traceDoubletree('192.0.2.9', 'icmp-paris', 1, new ScriptedSender(into('192.0.2.9')).paris(1), {
      stopSet,
      startTtl: 3,
    });
    const r = await traceDoubletree(
      '198.51.100.9',
      'icmp-paris',
      1,
      new ScriptedSender(into('198.51.100.9')).paris(1),
      { stopSet, startTtl: 3 },
    );
    assert.equal(r.stop, 'reached');
    assert.deepEqual(addresses(r), [R(2), R(3), R(4), R(5), R(6), '198.51.100.9']);
    assert.equal(r.probesSaved, 1);
  });

  it('startTtl beyond maxHops is clamped to it', async () => {
    const r = await traceDoubletree('192.0.2.9', 'icmp-paris', 1, new ScriptedSender(into('192.0.2.9')).paris(1), {
      stopSet: new StopSet(),
      startTtl: 9,
      maxHops: 5,
    });
    assert.deepEqual(
      r.hops.map((h) => h.ttl),
      [1, 2, 3, 4, 5],
    );
    assert.equal(r.stop, 'max-hops');
  });

  it('every later trace into a known /24 saves as many probes as the second (same path, same pair)', async () => {
    const stopSet = new StopSet();
    const saved: number[] = [];
    for (const host of [9, 10, 11, 12]) {
      const dst = `192.0.2.${host}`;
      const r = await traceDoubletree(dst, 'icmp-paris', 1, new ScriptedSender(into(dst)).paris(1), {
        stopSet,
        startTtl: 3,
      });
      saved.push(r.probesSaved ?? 0);
    }
    assert.deepEqual(saved, [0, 5, 5, 5]);
  });
});

describe('stop sets that age (a map that stays current)', () => {
  const MIN = 60_000;
  const clock = () => {
    const c = { t: 0, now: () => c.t };
    return c;
  };
  const trace = (stopSet: StopSet, dst: string, net: ScriptedNetwork = into(dst)) =>
    traceDoubletree(dst, 'icmp-paris', 1, new ScriptedSender(net).paris(1), { stopSet, startTtl: 3 });
  /** R(1)…R(6) toward 192.0.2.0/24, except that TTL 3 is now X instead of R(3). */
  const movedAtTtl3 = (dst: string): ScriptedNetwork => {
    const net = into(dst);
    net.routers[R(2)] = { next: ['10.9.0.3'] };
    net.routers['10.9.0.3'] = { next: [R(4)] };
    return net;
  };

  it('an entry older than the maximum age stops no trace', () => {
    const c = clock();
    const s = new StopSet({ maxAgeMs: 60 * MIN, now: c.now });
    learnPath(s, '192.0.2.9', [R(1), R(2), R(3), '192.0.2.9'], 1);
    c.t = 59 * MIN;
    assert.equal(s.remainingAfter(R(2), '192.0.2.1'), 2);
    assert.equal(s.knownNearWorker(R(1)), true);
    c.t = 60 * MIN;
    assert.equal(s.remainingAfter(R(2), '192.0.2.1'), undefined);
    assert.equal(s.knownNearWorker(R(1)), false);
    assert.equal(s.snapshot().expired, 2);
  });

  it('what a trace cut short learns is as old as the pair it stopped at', async () => {
    const c = clock();
    const stopSet = new StopSet({ maxAgeMs: 60 * MIN, fullTraceEveryMs: 1_000 * MIN, now: c.now });
    await trace(stopSet, '192.0.2.9');
    c.t = 40 * MIN;
    const cut = await trace(stopSet, '192.0.2.10');
    assert.equal(cut.stop, 'stop-set', 'stopped at R(3), known since minute 0');
    c.t = 61 * MIN;
    // R(3)'s path was last observed at minute 0, so nothing learned at minute 40 through it may stop a trace now.
    const after = await trace(stopSet, '192.0.2.11');
    assert.equal(after.stop, 'reached');
    assert.deepEqual(addresses(after), [R(1), R(2), R(3), R(4), R(5), R(6), '192.0.2.11']);
  });

  it('each network is traced in full once per period, however fresh its entries', async () => {
    const c = clock();
    const stopSet = new StopSet({ maxAgeMs: 1_000 * MIN, fullTraceEveryMs: 30 * MIN, now: c.now });
    await trace(stopSet, '192.0.2.9');
    c.t = 29 * MIN;
    assert.equal((await trace(stopSet, '192.0.2.10')).stop, 'stop-set');
    c.t = 30 * MIN;
    const full = await trace(stopSet, '192.0.2.11');
    assert.equal(full.stop, 'reached');
    assert.deepEqual(addresses(full), [R(1), R(2), R(3), R(4), R(5), R(6), '192.0.2.11'], 'TTL 1 to the end');
    assert.equal(full.probesSaved, 0);
    c.t = 31 * MIN;
    assert.equal((await trace(stopSet, '192.0.2.12')).stop, 'stop-set', 'the next is due a period later');
    assert.deepEqual(
      { ...stopSet.snapshot(), entries: 0, near_worker: 0 },
      {
        probes_saved: 10,
        traces: 4,
        full_traces: 2,
        scheduled_full_traces: 1,
        stopped: 2,
        expired: 0,
        invalidated: 0,
        entries: 0,
        near_worker: 0,
      },
    );
  });

  it('every destination gets its own full trace once per period, not one per network', async () => {
    const c = clock();
    const stopSet = new StopSet({ maxAgeMs: 1_000 * MIN, fullTraceEveryMs: 30 * MIN, now: c.now });
    await trace(stopSet, '192.0.2.9');
    assert.equal((await trace(stopSet, '192.0.2.10')).stop, 'stop-set', 'a first trace may use the network');
    c.t = 30 * MIN;
    assert.equal((await trace(stopSet, '192.0.2.9')).stop, 'reached');
    const second = await trace(stopSet, '192.0.2.10');
    assert.equal(second.stop, 'reached', "the network's full trace just now does not stand in for this one");
    assert.equal(second.probesSaved, 0);
    c.t = 31 * MIN;
    assert.equal((await trace(stopSet, '192.0.2.10')).stop, 'stop-set');
  });

  it('a change behind the stop point is seen by the full trace, not before', async () => {
    const c = clock();
    const stopSet = new StopSet({ maxAgeMs: 1_000 * MIN, fullTraceEveryMs: 30 * MIN, now: c.now });
    await trace(stopSet, '192.0.2.9');
    // TTL 5 moves from R(5) to Y: behind R(3), where the next traces stop.
    const moved = (dst: string) => {
      const net = into(dst);
      net.routers[R(4)] = { next: ['10.9.0.5'] };
      net.routers['10.9.0.5'] = { next: [R(6)] };
      return net;
    };
    c.t = 10 * MIN;
    assert.ok(!addresses(await trace(stopSet, '192.0.2.10', moved('192.0.2.10'))).includes('10.9.0.5'));
    c.t = 30 * MIN;
    assert.deepEqual(addresses(await trace(stopSet, '192.0.2.11', moved('192.0.2.11'))), [
      R(1),
      R(2),
      R(3),
      R(4),
      '10.9.0.5',
      R(6),
      '192.0.2.11',
    ]);
  });

  it('a destination traced again on its flow that meets another interface drops the entries behind it', async () => {
    const stopSet = new StopSet();
    await trace(stopSet, '192.0.2.9');
    const r = await trace(stopSet, '192.0.2.9', movedAtTtl3('192.0.2.9'));
    // Without the drop, the trace would stop at R(4), a known pair, and never see where the route goes now.
    assert.equal(r.stop, 'reached');
    assert.deepEqual(addresses(r), [R(2), '10.9.0.3', R(4), R(5), R(6), '192.0.2.9']);
    assert.equal(stopSet.snapshot().invalidated, 5, 'R(3) to R(6) and the destination: TTL 3 and beyond');
    assert.equal(stopSet.remainingAfter(R(4), '192.0.2.1'), 3, 'relearned from the new path');
  });

  it('another destination of the network on another branch (per-flow balancing) drops nothing', async () => {
    const stopSet = new StopSet();
    await trace(stopSet, '192.0.2.9');
    const r = await trace(stopSet, '192.0.2.10', movedAtTtl3('192.0.2.10'));
    assert.equal(r.stop, 'stop-set', 'stopped at R(4), still a known pair');
    assert.deepEqual(addresses(r), [R(2), '10.9.0.3', R(4)]);
    assert.equal(stopSet.snapshot().invalidated, 0);
  });

  it('the same destination on another flow is no evidence of a move', () => {
    const stopSet = new StopSet();
    learnPath(stopSet, '192.0.2.9', [R(1), R(2), R(3), '192.0.2.9'], 1);
    assert.equal(stopSet.invalidateIfMoved(3, '10.9.0.3', '192.0.2.9', 2), 0);
    assert.equal(stopSet.invalidateIfMoved(3, '10.9.0.3', '192.0.2.10', 1), 0, 'nor another destination');
    assert.equal(stopSet.invalidateIfMoved(3, '10.9.0.3', '192.0.2.9', 1), 2);
  });
});
