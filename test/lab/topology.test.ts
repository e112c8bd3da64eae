import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { planLab } from '../../src/lab/plan-lab.js';
import {
  bootstrapAddresses,
  loadTopology,
  parseTopology,
  targetRanges,
  TopologyError,
} from '../../src/lab/topology.js';

const NODES =
  'nodes: { probe: host, r1: router, r2: { kind: router, icmp: silent }, target: { kind: host, lo: [198.19.100.0/24] } }';
const RUN_NODES =
  'nodes: { v1: host, v2: host, noc: host, r1: router, t: { kind: host, lo: [198.19.1.0/26] } }\nlinks: [[v1, r1], [v2, r1], [noc, r1], [t, r1]]';

describe('parseTopology refuses a bad topology, naming the place', () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      'unknown node in a link',
      `name: t\n${NODES}\nlinks: [[probe, r1], [r1, r9]]`,
      /^t\.yaml: links\[1\]\[1\]: unknown node "r9" \(nodes: probe, r1, r2, target\)$/m,
    ],
    [
      'a node name that is an Object property',
      `name: t\n${NODES}\nlinks: [[probe, constructor]]`,
      /links\[0\]\[1\]: unknown node "constructor"/,
    ],
    [
      'duplicate link, either way round',
      `name: t\n${NODES}\nlinks: [[probe, r1], [r1, probe]]`,
      /links\[1\]: duplicate link r1-probe \(also links\[0\]\)/,
    ],
    ['a link to itself', `name: t\n${NODES}\nlinks: [[r1, r1]]`, /links\[0\]: a link needs two different nodes/],
    [
      'lo outside the lab ranges',
      'name: t\nnodes: { a: { kind: host, lo: [8.8.8.0/24] } }',
      /nodes\.a\.lo\[0\]: 8\.8\.8\.0\/24 is outside the ranges a lab may use \(198\.18\.0\.0\/15, 192\.0\.2\.0\/24/,
    ],
    [
      'a link subnet outside the ranges',
      `name: t\n${NODES}\nlinks: [[probe, r1, 10.0.0.0/30]]`,
      /links\[0\]\[2\]: 10\.0\.0\.0\/30 is outside/,
    ],
    [
      'a range straddling the edge',
      'name: t\nnodes: { a: { kind: host, lo: [198.16.0.0/13] } }',
      /198\.16\.0\.0\/13 is outside/,
    ],
    ['IPv6', 'name: t\nnodes: { a: { kind: host, lo: ["2001:db8::/64"] } }', /the lab is IPv4 only for now/],
    [
      'a one-address link subnet',
      `name: t\n${NODES}\nlinks: [[probe, r1, 192.0.2.1/32]]`,
      /links\[0\]\[2\]: a link subnet needs two addresses/,
    ],
    [
      'overlapping prefixes',
      `name: t\n${NODES}\nlinks: [[probe, r1, 198.19.100.4/30]]`,
      /nodes\.target\.lo\[0\]: 198\.19\.100\.0\/24 overlaps 198\.19\.100\.4\/30 at links\[0\]\[2\]/,
    ],
    [
      'host bits set',
      'name: t\nnodes: { a: { kind: host, lo: [192.0.2.1/24] } }',
      /host bits are set in 192\.0\.2\.1\/24/,
    ],
    [
      'unknown kind',
      'name: t\nnodes: { a: switch }',
      /nodes\.a\.kind: Invalid option: expected one of "host"\|"router"/,
    ],
    [
      'a link of one node',
      `name: t\n${NODES}\nlinks: [[probe]]`,
      /^t\.yaml: links\[0\]: a link is \[node, node\] or \[node, node, subnet\]$/,
    ],
    ['unknown key on a node', 'name: t\nnodes: { a: { kind: host, mtu: 9000 } }', /nodes\.a: Unrecognized key: "mtu"/],
    ['unknown icmp mode', 'name: t\nnodes: { a: { kind: router, icmp: loud } }', /nodes\.a\.icmp: Invalid option/],
    [
      'a node name too long for an interface name',
      'name: t\nnodes: { abcdefghijklm: host }',
      /nodes\.abcdefghijklm: node names are 1-12 characters/,
    ],
    [
      'a lab name with a dash',
      'name: my-lab\nnodes: { a: host }',
      /name: lab names are 1-16 characters of a-z and 0-9/,
    ],
    ['no nodes', 'name: t\nnodes: {}', /nodes: a lab needs at least one node/],
    [
      'a link of three nodes',
      `name: t\n${NODES}\nlinks: [[probe, r1, r2]]`,
      /links\[0\]\[2\]: not an IPv4 or IPv6 address or CIDR: "r2"/,
    ],
    ['not YAML', 'name: [t', /^t\.yaml: not valid YAML/],
    [
      'an AS number of 0',
      'name: t\nnodes: { a: { kind: router, as: 0 } }',
      /^t\.yaml: nodes\.a\.as: AS numbers are 1-4294967295$/,
    ],
    [
      'an AS number beyond 32 bits',
      'name: t\nnodes: { a: { kind: router, as: 4294967296 } }',
      /nodes\.a\.as: AS numbers are 1-4294967295/,
    ],
    [
      'a fractional AS number',
      'name: t\nnodes: { a: { kind: router, as: 64500.5 } }',
      /nodes\.a\.as: an AS number is a whole number/,
    ],
    [
      'an unknown vantage',
      `name: t\n${RUN_NODES}\nrun: { services: noc, vantages: [v1, x] }`,
      /^t\.yaml: run\.vantages\[1\]: unknown node "x" \(nodes: v1, v2, noc, r1, t\)$/m,
    ],
    [
      'an unknown services node',
      `name: t\n${RUN_NODES}\nrun: { services: nope, vantages: [v1] }`,
      /^t\.yaml: run\.services: unknown node "nope"/m,
    ],
    [
      'services on a router',
      `name: t\n${RUN_NODES}\nrun: { services: r1, vantages: [v1] }`,
      /^t\.yaml: run\.services: "r1" is a router; the mapper runs on hosts$/m,
    ],
    [
      'a vantage on a router',
      `name: t\n${RUN_NODES}\nrun: { services: noc, vantages: [v1, r1] }`,
      /run\.vantages\[1\]: "r1" is a router/,
    ],
    [
      'the services host as a vantage',
      `name: t\n${RUN_NODES}\nrun: { services: noc, vantages: [noc, v1] }`,
      /run\.vantages\[0\]: "noc" is the services host; a vantage needs a host of its own/,
    ],
    [
      'a vantage twice',
      `name: t\n${RUN_NODES}\nrun: { services: noc, vantages: [v1, v2, v1] }`,
      /^t\.yaml: run\.vantages\[2\]: duplicate vantage "v1" \(also run\.vantages\[0\]\)$/m,
    ],
    [
      'no vantages',
      `name: t\n${RUN_NODES}\nrun: { services: noc, vantages: [] }`,
      /run\.vantages: a run needs at least one vantage/,
    ],
    [
      'no input service',
      `name: t\n${RUN_NODES}\nrun: { services: noc, vantages: [v1], inputs: 0 }`,
      /run\.inputs: Too small/,
    ],
    [
      'an unknown key in run',
      `name: t\n${RUN_NODES}\nrun: { services: noc, vantages: [v1], workers: 2 }`,
      /run: Unrecognized key: "workers"/,
    ],
  ];
  for (const [what, text, expected] of cases) {
    it(what, () => {
      assert.throws(
        () => parseTopology(text, 't.yaml'),
        (err: Error) => {
          assert.ok(err instanceof TopologyError, `a TopologyError, got ${err}`);
          assert.match(err.message, expected);
          return true;
        },
      );
    });
  }
});

describe('planLab', () => {
  it('allocates /30s from 198.18.0.0 in link order, skipping explicit subnets and lo prefixes, and names interfaces to-<peer>', () => {
    const topo = parseTopology(
      'name: t\nnodes: { a: host, b: router, c: { kind: host, lo: [198.18.0.8/29] } }\nlinks: [[a, b], [b, c, 198.18.0.4/31], [c, a]]',
    );
    const plan = planLab(topo, 'x1');
    assert.deepEqual(
      plan.links.map((l) => [l.a, l.b, l.subnet.cidr, l.aAddress, l.bAddress]),
      [
        ['a', 'b', '198.18.0.0/30', '198.18.0.1', '198.18.0.2'],
        ['b', 'c', '198.18.0.4/31', '198.18.0.4', '198.18.0.5'],
        ['c', 'a', '198.18.0.16/30', '198.18.0.17', '198.18.0.18'],
      ],
    );
    assert.deepEqual(
      plan.nodes.get('a')!.interfaces.map((i) => [i.ifname, i.address, i.peerIfname, i.peerAddress]),
      [
        ['to-b', '198.18.0.1', 'to-a', '198.18.0.2'],
        ['to-c', '198.18.0.18', 'to-a', '198.18.0.17'],
      ],
    );
    assert.equal(plan.nodes.get('c')!.ns, 'hm-x1-c');
  });

  it('reads the shipped topologies', () => {
    for (const file of ['lab/chain.yaml', 'lab/diamond.yaml']) {
      const plan = planLab(loadTopology(file));
      assert.ok(plan.nodes.has('probe') && plan.nodes.has('target'), file);
    }
    const diamond = planLab(loadTopology('lab/diamond.yaml'));
    assert.deepEqual(
      [...diamond.nodes.values()].filter((n) => n.icmp === 'silent').map((n) => n.name),
      ['r5'],
    );
    assert.equal(diamond.nodes.get('target')!.lo[0]!.cidr, '198.19.100.0/24');
  });

  it('carries AS numbers and the run section into the plan; targets are the hosts that are neither services nor vantages', () => {
    const plan = planLab(
      parseTopology(`name: t
nodes:
  v1: { kind: host, as: 64501 }
  v2: host
  noc: { kind: host, lo: [198.19.9.0/24] }
  r1: { kind: router, as: 64500 }
  t: { kind: host, as: 64502, lo: [198.19.1.0/26, 198.19.1.128/32] }
  u: { kind: host, lo: [198.19.2.0/25] }
links: [[v1, r1], [v2, r1], [noc, r1], [t, r1], [u, r1]]
run: { services: noc, vantages: [v1, v2], outputs: 3 }`),
    );
    assert.deepEqual(
      [...plan.nodes.values()].map((n) => [n.name, n.as]),
      [
        ['v1', 64501],
        ['v2', undefined],
        ['noc', undefined],
        ['r1', 64500],
        ['t', 64502],
        ['u', undefined],
      ],
    );
    assert.deepEqual(plan.run, { services: 'noc', vantages: ['v1', 'v2'], inputs: 1, outputs: 3 });
    assert.deepEqual(
      targetRanges(plan).map((b) => b.cidr),
      ['198.19.1.0/26', '198.19.1.128/32', '198.19.2.0/25'],
    );
    assert.deepEqual(bootstrapAddresses(plan), ['198.19.1.1', '198.19.1.128', '198.19.2.1']);
    const noRun = planLab(
      parseTopology('name: t\nnodes: { a: host, b: { kind: host, lo: [198.19.3.0/24] } }\nlinks: [[a, b]]'),
    );
    assert.equal(noRun.run, undefined);
    assert.deepEqual(bootstrapAddresses(noRun), ['198.19.3.1']);
  });

  it('reads lab/internet.yaml: 30 routers in 4 ASes, three vantages, five target ranges of 448 addresses', () => {
    const plan = planLab(loadTopology('lab/internet.yaml'));
    const nodes = [...plan.nodes.values()];
    assert.equal(nodes.filter((n) => n.kind === 'router').length, 30);
    assert.deepEqual([...new Set(nodes.map((n) => n.as))].sort(), [64500, 64501, 64502, 64503]);
    assert.deepEqual(
      nodes.filter((n) => n.icmp !== 'normal').map((n) => `${n.name} ${n.icmp}`),
      ['c6 silent', 'wa2 silent', 'se2 silent'],
    );
    assert.deepEqual(plan.run, { services: 'noc', vantages: ['v1', 'v2', 'v3'], inputs: 2, outputs: 2 });
    assert.deepEqual(
      targetRanges(plan).map((b) => b.cidr),
      ['198.19.1.0/26', '198.19.2.0/25', '198.19.3.0/26', '198.19.4.0/25', '198.19.5.0/26'],
    );
    assert.equal(
      targetRanges(plan).reduce((sum, b) => sum + Number(b.size), 0),
      448,
    );
    assert.deepEqual(bootstrapAddresses(plan), ['198.19.1.1', '198.19.2.1', '198.19.3.1', '198.19.4.1', '198.19.5.1']);
  });

  it("refuses a lab name that could match another lab's namespaces", () => {
    assert.throws(() => planLab(parseTopology('name: t\nnodes: { a: host }'), 'a-b'), /lab name "a-b"/);
  });
});

describe('the shipped labs', () => {
  it('every lab/*.yaml loads and plans (a name the lab rules refuse once broke a bench case)', () => {
    const files = readdirSync('lab').filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 6, files.join(', '));
    for (const f of files) assert.ok(planLab(loadTopology(join('lab', f))).nodes.size > 0, f);
  });
});
