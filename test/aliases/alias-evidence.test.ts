import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { aliasEvidence } from '../../src/aliases/alias-evidence.js';
import type { AliasEvidence } from '../../src/aliases/alias-evidence-types.js';
import { aliasResultSchema, RESULT_FORMAT, type AliasResult } from '../../src/results/result-schema.js';
import { PROJECT_ROOT } from '../../src/version.js';

/**
 * The chain probe(.1) - r1(.2|.5) - r2 silent(.6|.9) - r3(.10|.13) - r4(.14|.17) - target(.18, lo 198.19.1.1),
 * as Linux answered record-route probes in the lab (tcpdump): the sender stamps the first slot, and the router
 * where the probe expires has already stamped its own address (the error's source) when it quotes the header.
 */
const A = (n: number) => `198.18.0.${n}`;
const TARGET = '198.19.1.1';
const chainRR: AliasResult['record_route'] = [
  { ttl: 1, from: A(2), icmp_type: 11, recorded: [A(1), A(2)] },
  { ttl: 2, from: null, recorded: [] },
  { ttl: 3, from: A(10), icmp_type: 11, recorded: [A(1), A(5), A(9), A(10)] },
  { ttl: 4, from: A(14), icmp_type: 11, recorded: [A(1), A(5), A(9), A(13), A(14)] },
  { ttl: 5, from: TARGET, icmp_type: 0, recorded: [A(1), A(5), A(9), A(13), A(17), TARGET, TARGET, A(14), A(10)] },
];

function result(over: Partial<AliasResult>): AliasResult {
  const r: AliasResult = {
    format: RESULT_FORMAT,
    id: '6f1d2c3b-9a8e-4f7d-8c6b-5a4e3d2c1b0a',
    type: 'alias',
    worker: 'w1',
    lease: null,
    target: TARGET,
    started_at: '2026-11-30T01:00:00.000Z',
    finished_at: '2026-11-30T01:00:02.000Z',
    flow: 4242,
    probes_sent: 0,
    record_route: [],
    timestamps: [],
    mercator: [],
    ipid: [],
    ...over,
  };
  return aliasResultSchema.parse(r);
}

const alias = (a: string, b: string, method: AliasEvidence['method']): AliasEvidence => ({
  a,
  b,
  method,
  verdict: 'alias',
});
const distinct = (a: string, b: string, method: AliasEvidence['method']): AliasEvidence => ({
  a,
  b,
  method,
  verdict: 'distinct',
});
const ts = (address: string, second: string, stamped: boolean[] | null) => ({
  address,
  prespecified: [address, second],
  stamped,
});
const ids = (a: string, b: string, values: Array<number | null>) => ({
  a,
  b,
  samples: values.map((ipid, i) => ({ address: i % 2 ? b : a, ipid })),
});

const cases: Array<{ name: string; input: Partial<AliasResult>; expected: AliasEvidence[] }> = [
  {
    name: 'DisCarte on the lab chain: inbound and outbound of r1, r3, r4, bridging the silent r2, not the destination',
    input: { record_route: chainRR },
    expected: [alias(A(2), A(5), 'discarte'), alias(A(10), A(13), 'discarte'), alias(A(14), A(17), 'discarte')],
  },
  {
    name: 'DisCarte, routers that stamp only when forwarding (the quoted list lacks their own address)',
    input: {
      record_route: [
        { ttl: 1, from: A(2), icmp_type: 11, recorded: [A(1)] },
        { ttl: 2, from: A(6), icmp_type: 11, recorded: [A(1), A(5)] },
        { ttl: 3, from: A(10), icmp_type: 11, recorded: [A(1), A(5), A(9)] },
      ],
    },
    expected: [alias(A(2), A(5), 'discarte'), alias(A(6), A(9), 'discarte')],
  },
  {
    name: 'DisCarte skips a router that did not stamp (the list did not grow by one per TTL)',
    input: {
      record_route: [
        { ttl: 1, from: A(2), icmp_type: 11, recorded: [A(1), A(2)] },
        { ttl: 2, from: A(6), icmp_type: 11, recorded: [A(1), A(6)] },
        { ttl: 3, from: A(10), icmp_type: 11, recorded: [A(1), A(9), A(10)] },
      ],
    },
    expected: [alias(A(6), A(9), 'discarte')],
  },
  {
    name: 'DisCarte skips a path change (the later list disagrees on the earlier stamps)',
    input: {
      record_route: [
        { ttl: 1, from: A(2), icmp_type: 11, recorded: [A(1), A(2)] },
        { ttl: 2, from: A(6), icmp_type: 11, recorded: [A(1), A(5), A(6)] },
        { ttl: 3, from: A(30), icmp_type: 11, recorded: [A(1), A(21), A(25), A(30)] },
      ],
    },
    expected: [alias(A(2), A(5), 'discarte')],
  },
  {
    name: 'DisCarte: an unreachable is not a time exceeded, an unanswered last TTL gives nothing, a stamp seen as another hop is refused',
    input: {
      record_route: [
        { ttl: 1, from: A(2), icmp_type: 11, recorded: [A(1), A(2)] },
        { ttl: 2, from: A(6), icmp_type: 3, recorded: [A(1), A(5), A(6)] },
        { ttl: 3, from: A(5), icmp_type: 11, recorded: [A(1), A(5), A(9), A(5)] },
        { ttl: 4, from: null, recorded: [] },
      ],
    },
    expected: [],
  },
  {
    name: 'DisCarte with a full option: the destination reply is nine forward stamps',
    input: {
      target: '198.19.9.9',
      record_route: [
        { ttl: 7, from: A(26), icmp_type: 11, recorded: [A(1), A(5), A(9), A(13), A(17), A(21), A(25), A(26)] },
        {
          ttl: 8,
          from: '198.19.9.9',
          icmp_type: 0,
          recorded: [A(1), A(5), A(9), A(13), A(17), A(21), A(25), A(29), A(33)],
        },
      ],
    },
    expected: [alias(A(26), A(29), 'discarte')],
  },
  {
    name: 'timestamps: both directions stamped twice is an alias; one direction alone is not',
    input: {
      timestamps: [ts(A(13), A(10), [true, true]), ts(A(10), A(13), [true, true]), ts(A(14), A(17), [true, true])],
    },
    expected: [alias(A(10), A(13), 'timestamp')],
  },
  {
    name: 'timestamps: A stamped and B not is distinct, even if the other direction stamped both (the return path)',
    input: { timestamps: [ts(A(2), A(10), [true, false]), ts(A(10), A(2), [true, true])] },
    expected: [distinct(A(2), A(10), 'timestamp')],
  },
  {
    name: 'timestamps: no reply, A not stamping, or a malformed list say nothing',
    input: {
      timestamps: [
        ts(A(2), A(10), null),
        ts(A(6), A(9), [false, false]),
        ts(A(14), A(14), [true, false]),
        { address: A(17), prespecified: [A(18), A(17)], stamped: [true, false] },
      ],
    },
    expected: [],
  },
  {
    name: 'Mercator: an unreachable from another address is an alias; from the probed address or none, nothing',
    input: {
      mercator: [
        { address: A(13), from: A(10) },
        { address: A(14), from: A(14) },
        { address: A(17), from: null },
      ],
    },
    expected: [alias(A(10), A(13), 'mercator')],
  },
  {
    name: 'Ally: one counter across both addresses (wrapping at 65536) is an alias; per-destination counters, zeros or too few samples are not',
    input: {
      ipid: [
        ids(A(2), A(5), [65530, 65533, 1, 4, 9, 12]),
        ids(A(10), A(13), [1200, 40211, 1203, 40214, 1207, 40230]),
        ids(A(14), A(17), [0, 0, 0, 0, 0, 0]),
        ids(A(6), A(9), [100, 101, null, null, 104, 106]),
      ],
    },
    expected: [alias(A(2), A(5), 'ally')],
  },
];

describe('alias evidence from an alias result', () => {
  for (const c of cases) {
    it(c.name, () => {
      const sort = (e: AliasEvidence[]) =>
        [...e].sort((x, y) => `${x.a}${x.b}${x.method}`.localeCompare(`${y.a}${y.b}${y.method}`));
      assert.deepEqual(sort(aliasEvidence(result(c.input))), sort(c.expected));
    });
  }

  it('orders each pair by address value and lists a pair once per method and verdict', () => {
    const ev = aliasEvidence(
      result({
        mercator: [
          { address: A(13), from: A(9) },
          { address: A(13), from: A(9) },
          { address: A(9), from: A(13) },
        ],
      }),
    );
    assert.deepEqual(ev, [alias(A(9), A(13), 'mercator')]);
  });

  it('gives the evidence docs/result-format.md says of its alias example', () => {
    const docs = readFileSync(`${PROJECT_ROOT}/docs/result-format.md`, 'utf8');
    const example = [...docs.matchAll(/```json\n([\s\S]*?)```/g)]
      .map((m) => JSON.parse(m[1]!))
      .find((r) => r.type === 'alias');
    const ev = aliasEvidence(aliasResultSchema.parse(example));
    const pairs = (method: string, verdict: string) =>
      ev
        .filter((e) => e.method === method && e.verdict === verdict)
        .map((e) => `${e.a} ${e.b}`)
        .sort();
    const routers = [`${A(2)} ${A(5)}`, `${A(10)} ${A(13)}`, `${A(14)} ${A(17)}`].sort();
    assert.deepEqual(pairs('discarte', 'alias'), routers);
    assert.deepEqual(pairs('timestamp', 'alias'), [...routers, `${A(6)} ${A(9)}`].sort());
    assert.deepEqual(pairs('timestamp', 'distinct'), [`${A(10)} ${A(14)}`]);
    assert.equal(ev.length, 8);
  });
});
