import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planLab } from '../../src/lab/plan-lab.js';
import { loadTopology, parseTopology, TopologyError } from '../../src/lab/topology.js';

const NODES = 'nodes: { probe: host, r1: router, r2: { kind: router, icmp: silent }, target: { kind: host, lo: [198.19.100.0/24] } }';

describe('parseTopology refuses a bad topology, naming the place', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['unknown node in a link', `name: t\n${NODES}\nlinks: [[probe, r1], [r1, r9]]`, /^t\.yaml: links\[1\]\[1\]: unknown node "r9" \(nodes: probe, r1, r2, target\)$/m],
    ['a node name that is an Object property', `name: t\n${NODES}\nlinks: [[probe, constructor]]`, /links\[0\]\[1\]: unknown node "constructor"/],
    ['duplicate link, either way round', `name: t\n${NODES}\nlinks: [[probe, r1], [r1, probe]]`, /links\[1\]: duplicate link r1-probe \(also links\[0\]\)/],
    ['a link to itself', `name: t\n${NODES}\nlinks: [[r1, r1]]`, /links\[0\]: a link needs two different nodes/],
    ['lo outside the lab ranges', 'name: t\nnodes: { a: { kind: host, lo: [8.8.8.0/24] } }', /nodes\.a\.lo\[0\]: 8\.8\.8\.0\/24 is outside the ranges a lab may use \(198\.18\.0\.0\/15, 192\.0\.2\.0\/24/],
    ['a link subnet outside the ranges', `name: t\n${NODES}\nlinks: [[probe, r1, 10.0.0.0/30]]`, /links\[0\]\[2\]: 10\.0\.0\.0\/30 is outside/],
    ['a range straddling the edge', 'name: t\nnodes: { a: { kind: host, lo: [198.16.0.0/13] } }', /198\.16\.0\.0\/13 is outside/],
    ['IPv6', 'name: t\nnodes: { a: { kind: host, lo: ["2001:db8::/64"] } }', /the lab is IPv4 only for now/],
    ['a one-address link subnet', `name: t\n${NODES}\nlinks: [[probe, r1, 192.0.2.1/32]]`, /links\[0\]\[2\]: a link subnet needs two addresses/],
    ['overlapping prefixes', `name: t\n${NODES}\nlinks: [[probe, r1, 198.19.100.4/30]]`, /nodes\.target\.lo\[0\]: 198\.19\.100\.0\/24 overlaps 198\.19\.100\.4\/30 at links\[0\]\[2\]/],
    ['host bits set', 'name: t\nnodes: { a: { kind: host, lo: [192.0.2.1/24] } }', /host bits are set in 192\.0\.2\.1\/24/],
    ['unknown kind', 'name: t\nnodes: { a: switch }', /nodes\.a\.kind: Invalid option: expected one of "host"\|"router"/],
    ['a link of one node', `name: t\n${NODES}\nlinks: [[probe]]`, /^t\.yaml: links\[0\]: a link is \[node, node\] or \[node, node, subnet\]$/],
    ['unknown key on a node', 'name: t\nnodes: { a: { kind: host, mtu: 9000 } }', /nodes\.a: Unrecognized key: "mtu"/],
    ['unknown icmp mode', 'name: t\nnodes: { a: { kind: router, icmp: loud } }', /nodes\.a\.icmp: Invalid option/],
    ['a node name too long for an interface name', 'name: t\nnodes: { abcdefghijklm: host }', /nodes\.abcdefghijklm: node names are 1-12 characters/],
    ['a lab name with a dash', 'name: my-lab\nnodes: { a: host }', /name: lab names are 1-16 characters of a-z and 0-9/],
    ['no nodes', 'name: t\nnodes: {}', /nodes: a lab needs at least one node/],
    ['a link of three nodes', `name: t\n${NODES}\nlinks: [[probe, r1, r2]]`, /links\[0\]\[2\]: not an IPv4 or IPv6 address or CIDR: "r2"/],
    ['not YAML', 'name: [t', /^t\.yaml: not valid YAML/],
  ];
  for (const [what, text, expected] of cases) {
    it(what, () => {
      assert.throws(() => parseTopology(text, 't.yaml'), (err: Error) => {
        assert.ok(err instanceof TopologyError, `a TopologyError, got ${err}`);
        assert.match(err.message, expected);
        return true;
      });
    });
  }
});

describe('planLab', () => {
  it('allocates /30s from 198.18.0.0 in link order, skipping explicit subnets and lo prefixes, and names interfaces to-<peer>', () => {
    const topo = parseTopology('name: t\nnodes: { a: host, b: router, c: { kind: host, lo: [198.18.0.8/29] } }\nlinks: [[a, b], [b, c, 198.18.0.4/31], [c, a]]');
    const plan = planLab(topo, 'x1');
    assert.deepEqual(
      plan.links.map((l) => [l.a, l.b, l.subnet.cidr, l.aAddress, l.bAddress]),
      [
        ['a', 'b', '198.18.0.0/30', '198.18.0.1', '198.18.0.2'],
        ['b', 'c', '198.18.0.4/31', '198.18.0.4', '198.18.0.5'],
        ['c', 'a', '198.18.0.16/30', '198.18.0.17', '198.18.0.18'],
      ],
    );
    assert.deepEqual(plan.nodes.get('a')!.interfaces.map((i) => [i.ifname, i.address, i.peerIfname, i.peerAddress]), [
      ['to-b', '198.18.0.1', 'to-a', '198.18.0.2'],
      ['to-c', '198.18.0.18', 'to-a', '198.18.0.17'],
    ]);
    assert.equal(plan.nodes.get('c')!.ns, 'hm-x1-c');
  });

  it('reads the shipped topologies', () => {
    for (const file of ['lab/chain.yaml', 'lab/diamond.yaml']) {
      const plan = planLab(loadTopology(file));
      assert.ok(plan.nodes.has('probe') && plan.nodes.has('target'), file);
    }
    const diamond = planLab(loadTopology('lab/diamond.yaml'));
    assert.deepEqual([...diamond.nodes.values()].filter((n) => n.icmp === 'silent').map((n) => n.name), ['r5']);
    assert.equal(diamond.nodes.get('target')!.lo[0]!.cidr, '198.19.100.0/24');
  });

  it('refuses a lab name that could match another lab\'s namespaces', () => {
    assert.throws(() => planLab(parseTopology('name: t\nnodes: { a: host }'), 'a-b'), /lab name "a-b"/);
  });
});
