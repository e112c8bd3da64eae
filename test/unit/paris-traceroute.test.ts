import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ProbeReply } from '../../src/probe/probe-reply.js';
import {
  fromDestination,
  traceFlow,
  type TraceMethod,
  type TraceOptions,
  type TraceResult,
} from '../../src/probe/traceroute.js';
import {
  burst,
  chain,
  every,
  pathOf,
  ScriptedSender,
  silent,
  trueLinks,
  type ScriptedNetwork,
} from './support/scripted-network.js';

const DST = '192.0.2.9';

/** The address each hop reports: the one answer it had, null for `*`; throws if one hop mixes addresses. */
function hopAddresses(result: TraceResult): Array<string | null> {
  return result.hops.map((h) => {
    const from = new Set(h.probes.filter((p): p is ProbeReply => p !== null).map((p) => p.from));
    assert.ok(from.size <= 1, `TTL ${h.ttl} mixes ${[...from].join(', ')}: a Paris trace keeps one path`);
    return [...from][0] ?? null;
  });
}

/** Links a trace claims: addresses answering at consecutive TTLs. */
function claimedLinks(result: TraceResult): string[] {
  const seq = result.hops.map((h) => h.probes.filter((p): p is ProbeReply => p !== null).map((p) => p.from));
  const links: string[] = [];
  for (let i = 1; i < seq.length; i++)
    for (const a of seq[i - 1]!) for (const b of seq[i]!) if (a !== b) links.push(`${a}>${b}`);
  return [...new Set(links)];
}

const falseLinks = (net: ScriptedNetwork, result: TraceResult) =>
  claimedLinks(result).filter((l) => !trueLinks(net).has(l));

/** A diamond 10.0.0.1 → {10.0.1.1 | 10.0.2.1} → 10.0.0.3 → dst, and a 4-way one after it. */
const ecmp: ScriptedNetwork = {
  first: '10.0.0.1',
  dst: DST,
  routers: {
    '10.0.0.1': { next: ['10.0.1.1', '10.0.2.1'] },
    '10.0.1.1': { next: ['10.0.0.3'] },
    '10.0.2.1': { next: ['10.0.0.3'] },
    '10.0.0.3': { next: ['10.0.3.1', '10.0.4.1', '10.0.5.1', '10.0.6.1'] },
    '10.0.3.1': { next: ['10.0.1.2'] },
    '10.0.4.1': { next: ['10.0.2.2'] },
    '10.0.5.1': { next: ['10.0.1.2'] },
    '10.0.6.1': { next: ['10.0.2.2'] },
    '10.0.1.2': { next: [DST] },
    '10.0.2.2': { next: [DST] },
  },
};

interface Row {
  name: string;
  net: ScriptedNetwork;
  method?: TraceMethod;
  opts?: TraceOptions;
  /** Expected per hop: address, null for `*`. */
  path: Array<string | null>;
  stop: TraceResult['stop'];
  reached: boolean;
}

const R = (i: number) => `10.0.0.${i}`;
const ROWS: Row[] = [
  {
    name: 'icmp-paris: the echo reply ends the trace',
    net: chain(3, DST),
    path: [R(1), R(2), R(3), DST],
    stop: 'reached',
    reached: true,
  },
  {
    name: 'udp-paris: the port unreachable of the destination ends it as reached, not unreachable',
    net: chain(3, DST),
    method: 'udp-paris',
    path: [R(1), R(2), R(3), DST],
    stop: 'reached',
    reached: true,
  },
  {
    name: 'tcp-syn: a SYN-ACK ends it',
    net: chain(2, DST),
    method: 'tcp-syn',
    path: [R(1), R(2), DST],
    stop: 'reached',
    reached: true,
  },
  {
    name: 'tcp-syn: an RST ends it too (closed port, host up)',
    net: { ...chain(2, DST), destination: 'rst' },
    method: 'tcp-syn',
    path: [R(1), R(2), DST],
    stop: 'reached',
    reached: true,
  },
  {
    name: 'a silent router is `*` and the trace goes on',
    net: chain(4, DST, { 2: { answers: silent } }),
    path: [R(1), null, R(3), R(4), DST],
    stop: 'reached',
    reached: true,
  },
  {
    name: 'four silent hops in a row (one short of the gap limit) do not stop it',
    net: chain(6, DST, {
      2: { answers: silent },
      3: { answers: silent },
      4: { answers: silent },
      5: { answers: silent },
    }),
    path: [R(1), null, null, null, null, R(6), DST],
    stop: 'reached',
    reached: true,
  },
  {
    name: 'five silent hops in a row stop it as a gap',
    net: chain(9, DST, {
      2: { answers: silent },
      3: { answers: silent },
      4: { answers: silent },
      5: { answers: silent },
      6: { answers: silent },
    }),
    path: [R(1), null, null, null, null, null],
    stop: 'gap',
    reached: false,
  },
  {
    name: 'gapLimit 2: two silent hops stop it',
    net: chain(5, DST, { 2: { answers: silent }, 3: { answers: silent } }),
    opts: { gapLimit: 2 },
    path: [R(1), null, null],
    stop: 'gap',
    reached: false,
  },
  {
    name: 'a silent destination ends in a gap after it',
    net: { ...chain(2, DST), destination: 'silent' },
    path: [R(1), R(2), null, null, null, null, null],
    stop: 'gap',
    reached: false,
  },
  {
    name: 'max-hops (30 by default) stops a long path',
    net: chain(40, DST),
    path: Array.from({ length: 30 }, (_, i) => R(i + 1)),
    stop: 'max-hops',
    reached: false,
  },
  {
    name: 'maxHops 4 stops it at TTL 4',
    net: chain(10, DST),
    opts: { maxHops: 4 },
    path: [R(1), R(2), R(3), R(4)],
    stop: 'max-hops',
    reached: false,
  },
  {
    name: 'a destination at exactly maxHops is reached',
    net: chain(3, DST),
    opts: { maxHops: 4 },
    path: [R(1), R(2), R(3), DST],
    stop: 'reached',
    reached: true,
  },
  {
    name: 'a router with no route says host unreachable: the trace stops there',
    net: { ...chain(3, DST, { 3: { next: [], unreachable: 1 } }) },
    path: [R(1), R(2), R(3), R(3)],
    stop: 'unreachable',
    reached: false,
  },
  {
    name: 'a router answering one probe in two is still found at its hop',
    net: chain(3, DST, { 2: { answers: every(2) } }),
    path: [R(1), R(2), R(3), DST],
    stop: 'reached',
    reached: true,
  },
  {
    name: 'firstTtl 3 starts in the middle',
    net: chain(4, DST),
    opts: { firstTtl: 3 },
    path: [R(3), R(4), DST],
    stop: 'reached',
    reached: true,
  },
];

describe('Paris traceroute (traceFlow) over a scripted network', () => {
  for (const row of ROWS) {
    it(row.name, async () => {
      const method = row.method ?? 'icmp-paris';
      const net = new ScriptedSender(row.net, method);
      const result = await traceFlow(DST, method, 4242, net.paris(4242), row.opts);
      assert.deepEqual(hopAddresses(result), row.path);
      assert.equal(result.stop, row.stop);
      assert.equal(result.reached, row.reached);
      // One probe at a hop that answers it, every attempt at a silent one.
      const perHop = row.opts?.probesPerHop ?? 3;
      const attempts = row.path.map((a) => (a === null ? perHop : 1));
      assert.equal(
        result.probesSent,
        attempts.reduce((n, a) => n + a, 0),
      );
      assert.equal(net.sent.length, result.probesSent, 'probesSent counts what was really sent');
      assert.deepEqual(
        result.hops.map((h) => h.ttl),
        row.path.map((_, i) => i + (row.opts?.firstTtl ?? 1)),
      );
      assert.deepEqual(
        result.hops.map((h) => h.probes.length),
        attempts,
      );
      assert.equal(result.flow, 4242);
      assert.equal(result.method, method);
    });
  }

  it('every probe of a trace is sent on its one flow', async () => {
    const net = new ScriptedSender(ecmp);
    await traceFlow(DST, 'icmp-paris', 777, net.paris(777));
    assert.deepEqual(new Set(net.sent.map((s) => s.flow)), new Set([777]));
  });

  it('over ECMP, each flow reports exactly its own path and never a false link (200 flows, both branches of each diamond seen)', async () => {
    const seen = new Set<string>();
    for (let flow = 1; flow <= 200; flow++) {
      const net = new ScriptedSender(ecmp);
      const result = await traceFlow(DST, 'icmp-paris', flow, net.paris(flow));
      assert.deepEqual(hopAddresses(result), pathOf(ecmp, flow), `flow ${flow}`);
      assert.deepEqual(falseLinks(ecmp, result), [], `flow ${flow}`);
      for (const a of hopAddresses(result)) if (a) seen.add(a);
    }
    assert.equal(seen.size, Object.keys(ecmp.routers).length + 1, 'the flows spread over every branch');
  });

  it('the link check catches a classic traceroute, whose changing flow invents links across the branches', async () => {
    let invented = 0;
    for (let base = 1; base <= 50; base++) {
      const result = await traceFlow(DST, 'icmp-paris', base, new ScriptedSender(ecmp).classic(base * 100));
      invented += falseLinks(ecmp, result).length;
    }
    assert.ok(invented > 0, 'a per-probe flow must show false links, or the check above proves nothing');
  });

  it('a router out of tokens (burst of 6, then one in 4) shows `*` for the rest but never another address', async () => {
    const net = chain(3, DST, { 2: { answers: burst(6, 4) } });
    const sender = new ScriptedSender(net);
    let answered = 0;
    for (let flow = 1; flow <= 10; flow++) {
      const result = await traceFlow(DST, 'icmp-paris', flow, sender.paris(flow));
      assert.equal(result.stop, 'reached');
      const hop2 = result.hops[1]!.probes;
      assert.ok(hop2.every((p) => p === null || p.from === R(2)));
      answered += hop2.filter((p) => p !== null).length;
    }
    // Traces 1-6 get the burst with one probe each; trace 7 sends 3 unanswered (probes 7-9), trace 8 gets
    // probe 10, trace 9 sends 11-13, trace 10 gets 14.
    assert.equal(sender.reached(R(2)), 14);
    assert.equal(answered, 6 + 2);
  });

  it('replies keep the shape of the real sockets: ICMP type and code, RTT, reply TTL', async () => {
    const result = await traceFlow(DST, 'icmp-paris', 9, new ScriptedSender(chain(1, DST)).paris(9), {
      probesPerHop: 1,
    });
    assert.deepEqual(result.hops, [
      { ttl: 1, probes: [{ from: R(1), rttUs: 100, icmpType: 11, icmpCode: 0, replyTtl: 64 }] },
      { ttl: 2, probes: [{ from: DST, rttUs: 200, icmpType: 0, icmpCode: 0, replyTtl: 63 }] },
    ]);
  });
});

describe('fromDestination: which answers end a trace', () => {
  const rows: Array<[string, ProbeReply, boolean]> = [
    ['echo reply from the destination', { from: DST, rttUs: 1, icmpType: 0, icmpCode: 0 }, true],
    ['port unreachable from the destination', { from: DST, rttUs: 1, icmpType: 3, icmpCode: 3 }, true],
    ['SYN-ACK from the destination', { from: DST, rttUs: 1, tcpFlags: 'syn-ack' }, true],
    ['RST from the destination', { from: DST, rttUs: 1, tcpFlags: 'rst' }, true],
    [
      'time exceeded from the destination address (a router that owns it)',
      { from: DST, rttUs: 1, icmpType: 11, icmpCode: 0 },
      false,
    ],
    ['echo reply from another address', { from: R(1), rttUs: 1, icmpType: 0, icmpCode: 0 }, false],
    ['SYN-ACK from another address', { from: R(1), rttUs: 1, tcpFlags: 'syn-ack' }, false],
  ];
  for (const [name, reply, expected] of rows)
    it(`${name}: ${expected}`, () => assert.equal(fromDestination(DST, reply), expected));
});

/**
 * Golden pairs: `<name>.input.json` (a scripted network, method, flow, options) → `<name>.expected.json`, the
 * whole TraceResult as the worker would report it. UPDATE_GOLDEN=1 rewrites the expected files (review the diff).
 */
describe('Paris traceroute golden pairs (fixtures/paris)', () => {
  const dir = join(import.meta.dirname, 'fixtures', 'paris');
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.input.json'))
    .map((f) => f.replace('.input.json', ''));
  it('has fixtures', () => assert.ok(names.length >= 3));
  for (const name of names) {
    it(name, async () => {
      const input = JSON.parse(readFileSync(join(dir, `${name}.input.json`), 'utf8')) as {
        network: ScriptedNetwork;
        method: TraceMethod;
        flow: number;
        options?: TraceOptions;
      };
      const result = await traceFlow(
        input.network.dst,
        input.method,
        input.flow,
        new ScriptedSender(input.network, input.method).paris(input.flow),
        input.options,
      );
      const expectedPath = join(dir, `${name}.expected.json`);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(expectedPath, `${JSON.stringify(result, null, 2)}\n`);
      assert.deepEqual(result, JSON.parse(readFileSync(expectedPath, 'utf8')));
    });
  }
});
