import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StopSet } from '../../src/probe/stop-set.js';
import { traceDoubletree, type TraceResult } from '../../src/probe/traceroute.js';
import { chain, ScriptedSender, type ScriptedNetwork } from './support/scripted-network.js';

const R = (i: number) => `10.0.0.${i}`;
const addresses = (r: TraceResult) => r.hops.map((h) => h.probes.find((p) => p)?.from ?? null);

/** The same 6 routers toward every address of 192.0.2.0/24 (and of 198.51.100.0/24 after R(6)). */
const into = (dst: string): ScriptedNetwork => chain(6, dst);

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
      for (const [dst, path, horizon] of row.learn)
        s.learn(
          dst,
          path.map((from, i) => ({ ttl: i + 1, from })),
          horizon,
        );
      assert.equal(s.remainingAfter(...row.ask), row.remaining);
    });
  }

  it('keeps as near the worker only interfaces at or below the horizon', () => {
    const s = new StopSet();
    s.learn(
      '192.0.2.9',
      [R(1), R(2), R(3), R(4)].map((from, i) => ({ ttl: i + 1, from })),
      2,
    );
    assert.deepEqual(
      [R(1), R(2), R(3), R(4)].map((a) => s.knownNearWorker(a)),
      [true, true, false, false],
    );
  });

  it('starts over when the global set outgrows its bound', () => {
    const s = new StopSet(2);
    for (const n of [1, 2, 3, 4])
      s.learn(
        `192.0.${n}.9`,
        [
          { ttl: 1, from: R(1) },
          { ttl: 2, from: `192.0.${n}.9` },
        ],
        0,
      );
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
