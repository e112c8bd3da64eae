import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RESULT_FORMAT, type Result } from '../../src/results/result-schema.js';
import { validateResult } from '../../src/results/validate-results.js';
import { pingResult, traceResult } from '../support/result-factory.js';

type Item = Record<string, any>;

const multipath = (): Item => ({
  format: RESULT_FORMAT,
  id: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
  type: 'multipath',
  worker: 'w1',
  lease: null,
  target: '198.19.9.9',
  started_at: '2026-11-23T01:00:00Z',
  finished_at: '2026-11-23T01:00:05Z',
  method: 'udp-paris',
  confidence: 0.95,
  reached: true,
  probes_sent: 12,
  hops: [
    {
      ttl: 1,
      interfaces: ['198.18.0.1', '2001:db8::1'],
      flows: 6,
      silent: 0,
      rtts_us: { '198.18.0.1': [100.5], '2001:db8::1': [120] },
    },
  ],
  links: [['198.18.0.1', '198.19.9.9']],
});

const alias = (): Item => ({
  format: RESULT_FORMAT,
  id: '1a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
  type: 'alias',
  worker: 'w1',
  lease: null,
  target: '198.19.9.9',
  started_at: '2026-11-23T01:00:00Z',
  finished_at: '2026-11-23T01:00:05Z',
  flow: 7,
  probes_sent: 4,
  record_route: [{ ttl: 1, from: '198.18.0.1', recorded: ['198.18.0.2'] }],
  timestamps: [{ address: '198.18.0.1', prespecified: ['198.18.0.1'], stamped: [true] }],
  mercator: [{ address: '198.18.0.1', from: '198.18.0.5' }],
  ipid: [{ a: '198.18.0.1', b: '198.18.0.5', samples: [{ address: '198.18.0.1', ipid: 17 }] }],
});

const ping = (): Item => pingResult('198.19.9.9');
const trace = (): Item => traceResult('198.19.9.9', ['198.18.0.1', null, '198.19.9.9']);

/** Each row: a valid result, one hostile change to it, and the field the error must name. */
const HOSTILE: Array<{ name: string; base: () => Item; change: (r: Item) => void; field: string }> = [
  { name: 'IPv4 octet over 255', base: ping, change: (r) => (r.target = '999.1.1.1'), field: 'target' },
  { name: 'IPv6 zone index', base: ping, change: (r) => (r.target = 'fe80::1%eth0'), field: 'target' },
  { name: 'IPv6 in brackets', base: ping, change: (r) => (r.target = '[2001:db8::1]'), field: 'target' },
  { name: 'address with a prefix', base: ping, change: (r) => (r.target = '10.0.0.0/8'), field: 'target' },
  { name: 'address with spaces', base: ping, change: (r) => (r.target = ' 10.0.0.1'), field: 'target' },
  { name: 'address with a leading zero', base: ping, change: (r) => (r.target = '10.0.0.01'), field: 'target' },
  { name: 'hostname', base: ping, change: (r) => (r.target = 'example.com'), field: 'target' },
  {
    name: 'quote in a hop address',
    base: trace,
    change: (r) => (r.hops[0].probes[0].from = '198.18.0.1"'),
    field: 'hops[0].probes[0].from',
  },
  { name: 'NUL in worker', base: ping, change: (r) => (r.worker = 'w\u00001'), field: 'worker' },
  { name: 'lone surrogate in worker', base: ping, change: (r) => (r.worker = 'w\ud800'), field: 'worker' },
  { name: 'empty worker', base: ping, change: (r) => (r.worker = ''), field: 'worker' },
  { name: 'year 0000', base: ping, change: (r) => (r.started_at = '0000-01-01T00:00:00Z'), field: 'started_at' },
  {
    name: 'offset past ±15:59',
    base: ping,
    change: (r) => (r.finished_at = '2026-01-01T00:00:00+23:59'),
    field: 'finished_at',
  },
  { name: 'February 30', base: ping, change: (r) => (r.started_at = '2026-02-30T00:00:00Z'), field: 'started_at' },
  {
    name: 'RTT over the real range',
    base: trace,
    change: (r) => (r.hops[0].probes[0].rtt_us = 1e39),
    field: 'hops[0].probes[0].rtt_us',
  },
  {
    name: 'RTT that would underflow real',
    base: trace,
    change: (r) => (r.hops[0].probes[0].rtt_us = 1e-45),
    field: 'hops[0].probes[0].rtt_us',
  },
  { name: 'negative RTT', base: ping, change: (r) => (r.rtts_us = [-1]), field: 'rtts_us[0]' },
  { name: 'sent beyond int4', base: ping, change: (r) => (r.sent = 2 ** 31), field: 'sent' },
  { name: 'probes_sent beyond int4', base: trace, change: (r) => (r.probes_sent = 2 ** 40), field: 'probes_sent' },
  { name: 'fractional count', base: trace, change: (r) => (r.probes_sent = 1.5), field: 'probes_sent' },
  { name: 'flow beyond 16 bits', base: trace, change: (r) => (r.flow = 65536), field: 'flow' },
  { name: 'TTL 0', base: trace, change: (r) => (r.hops[0].ttl = 0), field: 'hops[0].ttl' },
  {
    name: 'MPLS label beyond 20 bits',
    base: trace,
    change: (r) => (r.hops[0].probes[0].mpls = [{ label: 2 ** 20, exp: 0, bottom: true, ttl: 1 }]),
    field: 'hops[0].probes[0].mpls[0].label',
  },
  {
    name: 'multipath interface with a zone',
    base: multipath,
    change: (r) => (r.hops[0].interfaces[1] = 'fe80::1%eth0'),
    field: 'hops[0].interfaces[1]',
  },
  {
    name: 'multipath rtts_us key not an address',
    base: multipath,
    change: (r) => (r.hops[0].rtts_us['x\u0000'] = [1]),
    field: 'hops[0].rtts_us',
  },
  {
    name: 'multipath link end with a NUL',
    base: multipath,
    change: (r) => (r.links[0][1] = '198.19.9.9\u0000'),
    field: 'links[0][1]',
  },
  {
    name: 'multipath flows beyond int4',
    base: multipath,
    change: (r) => (r.hops[0].flows = 2 ** 32),
    field: 'hops[0].flows',
  },
  {
    name: 'alias recorded address with a zone',
    base: alias,
    change: (r) => (r.record_route[0].recorded[0] = 'fe80::2%1'),
    field: 'record_route[0].recorded[0]',
  },
  {
    name: 'alias ipid sample address',
    base: alias,
    change: (r) => (r.ipid[0].samples[0].address = '1.2.3'),
    field: 'ipid[0].samples[0].address',
  },
];

describe('result schema: what PostgreSQL would refuse is refused first, naming the field', () => {
  for (const base of [ping, trace, multipath, alias]) {
    it(`a valid ${base().type} result passes`, () => {
      const checked = validateResult(base(), 0);
      assert.ok(checked.ok, JSON.stringify(checked));
    });
  }

  for (const row of HOSTILE) {
    it(`refuses ${row.name}`, () => {
      const item = row.base();
      row.change(item);
      const checked = validateResult(item, 7);
      assert.equal(checked.ok, false, `${row.name} passed validation`);
      if (checked.ok) return;
      assert.ok(checked.errors.every((e) => e.index === 7));
      assert.ok(
        checked.errors.some(
          (e) => e.field === row.field || e.field.startsWith(`${row.field}.`) || e.field.startsWith(`${row.field}[`),
        ),
        `expected ${row.field}, got ${JSON.stringify(checked.errors)}`,
      );
    });
  }

  it('keeps what real workers send: IPv6 with an IPv4 tail, uppercase hex, RTT 0, year 9999', () => {
    const r = ping();
    Object.assign(r, {
      target: '::ffff:198.51.100.1',
      rtts_us: [0, 0.001, 3_599_999_999],
      finished_at: '9999-12-31T23:59:59Z',
    });
    assert.ok(validateResult(r, 0).ok);
    Object.assign(r, { target: '2001:DB8::A' });
    assert.ok(validateResult(r, 0).ok);
  });

  it('the result type is unchanged for valid input (what was parsed is what was sent)', () => {
    const r = trace() as Result;
    const checked = validateResult(structuredClone(r), 0);
    assert.ok(checked.ok);
    assert.deepEqual(checked.result, r);
  });
});
