import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  divergeTtl,
  mergeExact,
  MULTIPATH_FLOW,
  pathHash,
  routeObservation,
  unionPath,
  type RoutePath,
} from '../../src/results/route-paths.js';
import { RESULT_FORMAT, type Result } from '../../src/results/result-schema.js';
import { pingResult, traceResult } from '../support/result-factory.js';

const T = '198.19.9.9';
const path = (hops: string[][], reached = true): RoutePath => ({ hops, reached });

describe('route paths: what a trace shows and when two traces differ', () => {
  it('a traceroute becomes its answering addresses per TTL, silent TTLs empty, trailing ones dropped', () => {
    const r = traceResult(T, ['198.18.0.2', null, '198.18.0.10', T]);
    assert.deepEqual(routeObservation(r), {
      worker: 'w1',
      target: T,
      method: 'icmp-paris',
      flow: 4242,
      at: r.started_at,
      resultId: r.id,
      reached: true,
      hops: [['198.18.0.2'], [], ['198.18.0.10'], [T]],
      silentTtls: [],
    });
    const gave_up = traceResult(T, ['198.18.0.2', '198.18.0.6', null, null, null]);
    assert.deepEqual(routeObservation(gave_up)!.hops, [['198.18.0.2'], ['198.18.0.6']]);
    assert.equal(routeObservation(pingResult(T)), null, 'a ping traces no route');
  });

  it('answers from two addresses at one TTL (per-packet balancing) are both kept, sorted', () => {
    const r = traceResult(T, ['198.18.0.2', T]) as Extract<Result, { type: 'traceroute' }>;
    r.hops[0]!.probes[1] = { from: '198.18.0.1', rtt_us: 5 };
    assert.deepEqual(routeObservation(r)!.hops[0], ['198.18.0.1', '198.18.0.2']);
  });

  it('a multipath trace is one route (flow -1) whose path is every interface per TTL', () => {
    const m: Result = {
      format: RESULT_FORMAT,
      id: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
      type: 'multipath',
      worker: 'v1',
      lease: null,
      target: T,
      started_at: '2026-11-23T01:41:00.000+00:00',
      finished_at: '2026-11-23T01:41:02.500+00:00',
      method: 'udp-paris',
      confidence: 0.95,
      reached: true,
      probes_sent: 42,
      hops: [
        { ttl: 1, interfaces: ['198.18.0.2'], flows: 6, silent: 0, rtts_us: {} },
        { ttl: 2, interfaces: ['198.18.0.14', '198.18.0.10'], flows: 11, silent: 0, rtts_us: {} },
        { ttl: 3, interfaces: [T], flows: 11, silent: 0, rtts_us: {} },
      ],
      links: [],
    };
    const o = routeObservation(m)!;
    assert.equal(o.flow, MULTIPATH_FLOW);
    assert.deepEqual(o.silentTtls, []);
    (m.hops[1] as { silent: number }).silent = 2;
    assert.deepEqual(routeObservation(m)!.silentTtls, [2], 'a TTL where some flows went unanswered');
    assert.deepEqual(o.hops, [['198.18.0.2'], ['198.18.0.10', '198.18.0.14'], [T]]);
  });

  // [name, picture, trace, exact (a single-flow trace), overlap (a multipath trace)]
  const cases: Array<[string, RoutePath, RoutePath, number | null, number | null]> = [
    ['the same path', path([['a'], ['b'], [T]]), path([['a'], ['b'], [T]]), null, null],
    ['another router at TTL 2', path([['a'], ['b'], [T]]), path([['a'], ['c'], [T]]), 2, 2],
    ['a `*` where the other answered is no evidence', path([['a'], [], [T]]), path([['a'], ['b'], [T]]), null, null],
    [
      'a Doubletree-stopped trace on the same route',
      path([[], [], ['c'], [T]]),
      path([['a'], ['b'], ['c'], [T]]),
      null,
      null,
    ],
    [
      'a trace cut short by the stop set before the end',
      path([['a'], ['b'], ['c'], [T]]),
      path([[], ['b'], ['c']], false),
      null,
      null,
    ],
    [
      'a trace that did not reach, answered past where the route ended',
      path([['a'], ['b'], [T]]),
      path([['a'], [], [], ['c']], false),
      3,
      3,
    ],
    [
      'branches of unequal length, one of them unseen this time',
      path([['a'], ['b', 'c'], ['d', T], [T]]),
      path([['a'], ['c'], [T]]),
      2,
      null,
    ],
    ['a longer path to the same target', path([['a'], [], [T]]), path([['a'], [], [], [T]]), 3, 3],
    [
      'a shorter path that ends silent is not proof',
      path([['a'], ['b'], [T]]),
      path([['a'], ['b']], false),
      null,
      null,
    ],
    ['one branch missing from a multipath set', path([['a'], ['b', 'c'], [T]]), path([['a'], ['b'], [T]]), 2, null],
    ['a branch joins (or a silent flow answers)', path([['a'], ['b'], [T]]), path([['a'], ['b', 'c'], [T]]), 2, null],
    ['every branch replaced', path([['a'], ['b', 'c'], [T]]), path([['a'], ['d', 'e'], [T]]), 2, 2],
    ['an unreachable from the first router', path([['a'], ['b'], [T]]), path([['a'], ['a']], false), 2, 2],
    [
      'a branch that was silent answers alone',
      { ...path([['a'], ['b'], [T]]), silentTtls: [2] },
      path([['a'], ['c'], [T]]),
      2,
      null,
    ],
  ];
  for (const [name, a, b, exact, overlap] of cases) {
    it(`divergeTtl: ${name} → exact ${exact}, overlap ${overlap}`, () => {
      assert.equal(divergeTtl(a, b, 'exact'), exact);
      assert.equal(divergeTtl(b, a, 'exact'), exact, 'symmetric');
      assert.equal(divergeTtl(a, b, 'overlap'), overlap);
      assert.equal(divergeTtl(b, a, 'overlap'), overlap, 'symmetric');
    });
  }

  it('a single-flow picture gains what a trace on the same path saw, and loses nothing to a shorter one', () => {
    const full = path([['a'], ['b'], ['c'], [T]]);
    assert.deepEqual(mergeExact(full, path([[], ['b'], ['c']], false)), full, 'a Doubletree-stopped trace');
    assert.deepEqual(mergeExact(path([[], ['b'], ['c']], false), full), full, 'the full trace after a partial one');
    assert.deepEqual(
      mergeExact(path([['a'], [], ['c'], [T]]), path([['a'], ['b'], [], [T]])),
      full,
      'two traces silent at different TTLs',
    );
    assert.deepEqual(mergeExact(path([[], ['b']], false), path([['a']], false)), path([['a'], ['b']], false));
  });

  it("a multipath route's picture is the union of its traces per TTL", () => {
    assert.deepEqual(unionPath(path([['a'], ['c'], [T]]), path([['a'], ['b'], [T]])), {
      ...path([['a'], ['b', 'c'], [T]]),
      silentTtls: [],
    });
    assert.deepEqual(unionPath(path([['a'], []], false), { ...path([['a'], ['b'], [T]]), silentTtls: [2] }), {
      ...path([['a'], ['b'], [T]]),
      silentTtls: [2],
    });
  });

  it('the hash depends on the path only, and on whether it reached', () => {
    assert.equal(pathHash(path([['a'], [T]])), pathHash(path([['a'], [T]])));
    assert.notEqual(pathHash(path([['a'], [T]])), pathHash(path([['a'], [T]], false)));
    assert.notEqual(pathHash(path([['a'], [], [T]])), pathHash(path([['a'], [T]])));
    assert.match(pathHash(path([])), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});
