import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  aliasEvidence,
  compareAddresses,
  discartePairs,
  sharedCounter,
  timestampVerdicts,
} from '../../src/aliases/alias-evidence.js';
import { RESULT_FORMAT, type AliasResult } from '../../src/results/result-schema.js';

// What test/aliases/alias-evidence.test.ts leaves out: the exact edges of each rule.
const A = (n: number) => `198.18.0.${n}`;
const TARGET = '198.19.1.1';
const result = (over: Partial<AliasResult>): AliasResult => ({
  format: RESULT_FORMAT,
  id: '6f1d2c3b-9a8e-4f7d-8c6b-5a4e3d2c1b0a',
  type: 'alias',
  worker: 'w1',
  lease: null,
  target: TARGET,
  started_at: '2026-11-30T01:00:00.000Z',
  finished_at: '2026-11-30T01:00:02.000Z',
  flow: 1,
  probes_sent: 0,
  record_route: [],
  timestamps: [],
  mercator: [],
  ipid: [],
  ...over,
});
const series = (values: Array<number | null>, a = A(1), b = A(5)) => ({
  a,
  b,
  samples: values.map((ipid, i) => ({ address: i % 2 ? b : a, ipid })),
});

describe('Ally: one shared IP-ID counter', () => {
  const rows: Array<[string, ReturnType<typeof series>, boolean]> = [
    ['steps of exactly 1000 are one counter', series([0, 1000, 2000, 3000, 4000, 5000]), true],
    ['a step of 1001 is not', series([0, 1000, 2001, 3001, 4001, 5001]), false],
    ['a repeated IP-ID (step 0) is not', series([10, 11, 11, 12, 13, 14]), false],
    ['a counter going back is not (it would be a step of ~65,000)', series([500, 400, 600, 700, 800, 900]), false],
    ['three samples of each are enough', series([1, 2, 3, 4, 5, 6]), true],
    ['two of one address are not', series([1, 2, 3, 4, 5, null]), false],
    ['wrapping from 65535 to 0 is one step of 1', series([65533, 65534, 65535, 0, 1, 2]), true],
    [
      'samples from a third address are ignored',
      { a: A(1), b: A(5), samples: [...series([1, 2, 3, 4, 5, 6]).samples, { address: A(9), ipid: 40000 }] },
      true,
    ],
  ];
  for (const [name, s, expected] of rows) it(name, () => assert.equal(sharedCounter(s), expected));
});

describe('timestamps: the edges', () => {
  it('a one-entry prespecified list says nothing', () => {
    assert.deepEqual(
      timestampVerdicts(result({ timestamps: [{ address: A(1), prespecified: [A(1)], stamped: [true] }] })),
      [],
    );
  });
  it('a distinct verdict needs only one direction', () => {
    assert.deepEqual(
      timestampVerdicts(
        result({ timestamps: [{ address: A(1), prespecified: [A(1), A(5)], stamped: [true, false] }] }),
      ),
      [{ a: A(1), b: A(5), verdict: 'distinct' }],
    );
  });
  it('mixed outcomes of the same direction are distinct (one "first only" is enough)', () => {
    const t = (stamped: boolean[]) => ({ address: A(1), prespecified: [A(1), A(5)], stamped });
    const back = { address: A(5), prespecified: [A(5), A(1)], stamped: [true, true] };
    assert.deepEqual(timestampVerdicts(result({ timestamps: [t([true, true]), t([true, false]), back] })), [
      { a: A(1), b: A(5), verdict: 'distinct' },
    ]);
  });
});

describe('DisCarte: the edges', () => {
  it('a destination that answers with anything but an echo reply is not used', () => {
    const rr = [
      { ttl: 1, from: A(2), icmp_type: 11, recorded: [A(1), A(2)] },
      { ttl: 2, from: TARGET, icmp_type: 3, recorded: [A(1), A(5), TARGET] },
    ];
    assert.deepEqual(discartePairs(result({ record_route: rr })), []);
  });
  it('hops are taken in TTL order whatever order they were listed in', () => {
    const rr = [
      { ttl: 2, from: A(6), icmp_type: 11, recorded: [A(1), A(5), A(6)] },
      { ttl: 1, from: A(2), icmp_type: 11, recorded: [A(1), A(2)] },
    ];
    assert.deepEqual(discartePairs(result({ record_route: rr })), [[A(2), A(5)]]);
  });
  it('the destination stamped in a later list is never paired with a router', () => {
    const rr = [
      { ttl: 1, from: A(2), icmp_type: 11, recorded: [A(1), A(2)] },
      { ttl: 2, from: A(6), icmp_type: 11, recorded: [A(1), TARGET, A(6)] },
    ];
    assert.deepEqual(discartePairs(result({ record_route: rr })), []);
  });
});

describe('pair order', () => {
  const rows: Array<[string, string, number]> = [
    ['10.0.0.9', '10.0.0.10', -1],
    ['10.0.0.10', '10.0.0.9', 1],
    ['9.255.255.255', '10.0.0.0', -1],
    ['10.0.0.1', '10.0.0.1', 0],
    ['2001:db8::a', '2001:db8::b', -1],
  ];
  for (const [a, b, sign] of rows)
    it(`${a} vs ${b}: ${sign}`, () => assert.equal(Math.sign(compareAddresses(a, b)), sign));

  it('evidence names each pair lower address first, by value', () => {
    const ev = aliasEvidence(result({ mercator: [{ address: '10.0.0.10', from: '10.0.0.9' }] }));
    assert.deepEqual(ev, [{ a: '10.0.0.9', b: '10.0.0.10', method: 'mercator', verdict: 'alias' }]);
  });
});
