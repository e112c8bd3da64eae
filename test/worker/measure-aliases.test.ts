import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AliasProber } from '../../src/probe/alias-probes.js';
import { aliasResultSchema } from '../../src/results/result-schema.js';
import { linkMate } from '../../src/worker/alias-candidates.js';
import { aliasSchedule, measureAliases } from '../../src/worker/measure-aliases.js';

/**
 * A prober answering as the lab chain worker(.1) - r1(.2|.5) - r2 silent(.6|.9) - r3(.10|.13) - r4(.14|.17) -
 * target did (docs/result-format.md), counting what it was asked to send.
 */
const A = (n: number) => `198.18.0.${n}`;
const TARGET = '198.19.1.1';
const ROUTERS = [
  [A(2), A(5)],
  [A(6), A(9)],
  [A(10), A(13)],
  [A(14), A(17)],
] as const;
function chainProber() {
  const calls: string[] = [];
  const owner = (a: string) => ROUTERS.findIndex((r) => (r as readonly string[]).includes(a));
  const prober = {
    recordRoute(dst: string, ttl: number, checksum: number) {
      calls.push(`rr ${ttl} ${checksum}`);
      const outs = [A(1), ...ROUTERS.map((r) => r[1])];
      if (ttl === 2) return Promise.resolve({ from: null, recorded: [] });
      if (ttl <= 4)
        return Promise.resolve({
          from: ROUTERS[ttl - 1]![0],
          icmpType: 11,
          recorded: [...outs.slice(0, ttl), ROUTERS[ttl - 1]![0]],
        });
      return Promise.resolve({ from: dst, icmpType: 0, recorded: [...outs, dst, dst, A(14), A(10)].slice(0, 9) });
    },
    timestamps(address: string, prespecified: string[]) {
      calls.push(`ts ${prespecified.join(',')}`);
      return Promise.resolve(prespecified.map((p, i) => i === 0 || owner(p) === owner(address)));
    },
    mercator(address: string) {
      calls.push(`mercator ${address}`);
      return Promise.resolve(owner(address) === 1 ? null : address);
    },
    ipId(address: string) {
      calls.push(`ipid ${address}`);
      return Promise.resolve(owner(address) * 10_000 + calls.length);
    },
  };
  return { prober: prober as unknown as AliasProber, calls };
}

describe('an alias measurement', () => {
  it('probes record route on the Paris flow, then timestamps, Mercator and Ally on what it found, each probe paced', async () => {
    const { prober, calls } = chainProber();
    let paced = 0;
    const r = await measureAliases(
      TARGET,
      { flow: 4242, lastTtl: 5, addresses: [A(2), A(10), A(14), TARGET] },
      {
        prober,
        workerId: 'w1',
        lease: null,
        pace: () => {
          paced++;
          return Promise.resolve();
        },
        timeoutMs: 100,
        maxHops: 30,
      },
    );
    aliasResultSchema.parse(r);
    assert.equal(r.probes_sent, calls.length);
    assert.equal(paced, calls.length, 'every probe took a pacer slot');
    assert.deepEqual(
      calls.filter((c) => c.startsWith('rr')),
      ['rr 1 4242', 'rr 2 4242', 'rr 3 4242', 'rr 4 4242', 'rr 5 4242'],
    );
    assert.equal(r.flow, 4242);
    // The three DisCarte pairs, each both ways, and the consecutive routers r3 then r4.
    const tsCalls = calls.filter((c) => c.startsWith('ts')).map((c) => c.slice(3));
    for (const [a, b] of [
      [A(2), A(5)],
      [A(10), A(13)],
      [A(14), A(17)],
    ]) {
      assert.ok(tsCalls.includes(`${a},${b}`) && tsCalls.includes(`${b},${a}`), `${a} ${b} both ways`);
    }
    assert.ok(tsCalls.includes(`${A(10)},${A(14)}`));
    // Silent r2: its inbound address guessed as the /30 mate of r1's outbound stamp, next to its own stamp.
    assert.ok(
      tsCalls.includes(`${A(6)},${A(9)}`) && tsCalls.includes(`${A(9)},${A(6)}`),
      'the silent router tested both ways',
    );
    // Mercator on every router address seen, not on the worker's own (the first stamp) nor the target.
    assert.deepEqual(r.mercator.map((m) => m.address).sort(), [2, 5, 9, 10, 13, 14, 17].map(A).sort());
    assert.ok(
      r.ipid.length >= 3 &&
        r.ipid.every((s) => s.samples.length === 6 && s.samples.every((x, i) => x.address === (i % 2 ? s.b : s.a))),
    );
  });

  it('probes past the trace until the destination answers, and keeps nothing after it', async () => {
    const { prober, calls } = chainProber();
    const r = await measureAliases(
      TARGET,
      { lastTtl: 3, addresses: [] },
      { prober, workerId: 'w1', lease: null, pace: async () => {}, timeoutMs: 100, maxHops: 30 },
    );
    assert.deepEqual(
      r.record_route.map((h) => h.ttl),
      [1, 2, 3, 4, 5],
    );
    assert.equal(calls.filter((c) => c.startsWith('rr')).length, 5);
    assert.ok(r.flow >= 1 && r.flow < 0xffff, 'a flow of its own without an ICMP trace');
  });

  it('guesses the other end of a point-to-point link: /30 mates for .1 and .2 of four, else /31', () => {
    const cases: Array<[string, string]> = [
      ['198.18.0.5', '198.18.0.6'],
      ['198.18.0.6', '198.18.0.5'],
      ['10.0.0.4', '10.0.0.5'],
      ['10.0.0.7', '10.0.0.6'],
      ['10.0.0.254', '10.0.0.253'],
    ];
    for (const [address, mate] of cases) assert.equal(linkMate(address), mate, address);
    assert.equal(linkMate('2001:db8::1'), undefined);
  });

  it('is scheduled on one traced target in N, never with 0', () => {
    const take = (every: number, n: number) => Array.from({ length: n }, aliasSchedule(every)).filter(Boolean).length;
    assert.equal(take(10, 100), 10);
    assert.equal(take(1, 7), 7);
    assert.equal(take(0, 50), 0);
  });
});
