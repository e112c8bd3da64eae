import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeRoutes } from '../../src/lab/compute-routes.js';
import { planLab, type LabPlan } from '../../src/lab/plan-lab.js';
import { parseTopology } from '../../src/lab/topology.js';

/** Where a node sends traffic for a destination: the peers of its next hops, `connected`, or `none`. */
type Expect = [at: string, to: string, via: string[] | 'connected' | 'none'];

interface Case {
  name: string;
  yaml: string;
  expect: Expect[];
}

const DIAMOND = `
name: t
nodes: { probe: host, r1: router, r2a: router, r2b: router, r3: router, target: { kind: host, lo: [198.19.100.0/24] } }
links: [[probe, r1], [r1, r2a], [r1, r2b], [r2a, r3], [r2b, r3], [r3, target]]`;

const cases: Case[] = [
  {
    name: 'chain: one next hop everywhere, none for attached subnets',
    yaml: `
name: t
nodes: { probe: host, r1: router, r2: router, target: { kind: host, lo: [198.19.1.0/28] } }
links: [[probe, r1], [r1, r2], [r2, target]]`,
    expect: [
      ['probe', 'r2-target', ['r1']],
      ['probe', '198.19.1.0/28', ['r1']],
      ['probe', 'probe-r1', 'connected'],
      ['r1', 'probe-r1', 'connected'],
      ['r1', '198.19.1.0/28', ['r2']],
      ['r2', 'probe-r1', ['r1']],
      ['target', 'probe-r1', ['r2']],
      ['target', '198.19.1.0/28', 'connected'],
    ],
  },
  {
    name: 'diamond: two next hops at r1 toward r3 and target, and at r3 back toward probe',
    yaml: DIAMOND,
    expect: [
      ['r1', 'r3-target', ['r2a', 'r2b']],
      ['r1', '198.19.100.0/24', ['r2a', 'r2b']],
      ['r3', 'probe-r1', ['r2a', 'r2b']],
      ['target', 'probe-r1', ['r3']],
      ['probe', '198.19.100.0/24', ['r1']],
      // A subnet between a branch and r3 is one hop from the branch router: no split.
      ['r1', 'r2a-r3', ['r2a']],
      ['r1', 'r2b-r3', ['r2b']],
      ['r3', 'r1-r2a', ['r2a']],
      ['r2a', 'r2b-r3', ['r3']],
    ],
  },
  {
    name: 'only equal-cost paths are kept',
    yaml: `
name: t
nodes: { r1: router, r2: router, r3: { kind: router, lo: [192.0.2.0/24] } }
links: [[r1, r2], [r2, r3], [r1, r3]]`,
    expect: [
      ['r1', '192.0.2.0/24', ['r3']],
      ['r1', 'r2-r3', ['r2', 'r3']],
    ],
  },
  {
    name: 'a host is never a transit hop, even on the shorter path',
    yaml: `
name: t
nodes: { a: router, h: host, b: router, c: router, d: router, far: { kind: host, lo: [203.0.113.0/24] } }
links: [[a, h], [h, b], [a, c], [c, d], [d, b], [b, far]]`,
    expect: [
      ['a', '203.0.113.0/24', ['c']],
      ['a', 'b-far', ['c']],
      // The host side of h-b is reached through the router b, not through h.
      ['a', 'h-b', ['c']],
      ['h', '203.0.113.0/24', ['b']],
      ['b', 'a-h', ['d']],
    ],
  },
  {
    name: 'a multi-homed host splits over its equal uplinks',
    yaml: `
name: t
nodes: { h: host, r1: router, r2: router, r3: { kind: router, lo: [198.19.5.5/32] } }
links: [[h, r1], [h, r2], [r1, r3], [r2, r3]]`,
    expect: [
      ['h', '198.19.5.5/32', ['r1', 'r2']],
      ['r3', 'h-r1', ['r1']],
      ['r1', 'h-r2', ['r3']],
    ],
  },
  {
    name: 'no route into a part of the graph it cannot reach',
    yaml: `
name: t
nodes: { a: host, r1: router, b: host, r2: router }
links: [[a, r1], [b, r2]]`,
    expect: [
      ['a', 'b-r2', 'none'],
      ['r1', 'b-r2', 'none'],
    ],
  },
];

function where(plan: LabPlan, to: string): string {
  const [a, b] = to.split('-');
  const link = plan.links.find((l) => (l.a === a && l.b === b) || (l.a === b && l.b === a));
  return link ? link.subnet.cidr : to;
}

describe('computeRoutes', () => {
  for (const c of cases) {
    it(c.name, () => {
      const plan = planLab(parseTopology(c.yaml));
      const routes = computeRoutes(plan);
      for (const [at, to, via] of c.expect) {
        const cidr = where(plan, to);
        const route = routes.get(at)!.find((r) => r.prefix.cidr === cidr);
        const attached =
          plan.nodes.get(at)!.interfaces.some((i) => i.subnet.cidr === cidr) ||
          plan.nodes.get(at)!.lo.some((p) => p.cidr === cidr);
        const got = route ? route.nexthops.map((h) => h.peer) : attached ? 'connected' : 'none';
        assert.deepEqual(got, via, `${at} toward ${to} (${cidr})`);
      }
    });
  }

  it('gives every node a route to every prefix it does not own in a connected lab, with gateways on its own links', () => {
    const plan = planLab(parseTopology(DIAMOND));
    const routes = computeRoutes(plan);
    const prefixes = [...plan.links.map((l) => l.subnet.cidr), '198.19.100.0/24'];
    for (const node of plan.nodes.values()) {
      const own = new Set([...node.interfaces.map((i) => i.subnet.cidr), ...node.lo.map((p) => p.cidr)]);
      assert.deepEqual(
        routes
          .get(node.name)!
          .map((r) => r.prefix.cidr)
          .sort(),
        prefixes.filter((p) => !own.has(p)).sort(),
        node.name,
      );
      for (const r of routes.get(node.name)!) {
        for (const h of r.nexthops) {
          const i = node.interfaces.find((x) => x.ifname === h.dev);
          assert.ok(
            i && i.peerAddress === h.via && i.peer === h.peer,
            `${node.name} ${r.prefix.cidr} via ${h.via} dev ${h.dev}`,
          );
        }
      }
    }
  });
});
