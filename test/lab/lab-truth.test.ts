import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openLab } from '../../src/lab/open-lab.js';
import { loadTopology, parseTopology } from '../../src/lab/topology.js';

describe('lab truth', () => {
  const chain = openLab(loadTopology('lab/chain.yaml'));
  const diamond = openLab(loadTopology('lab/diamond.yaml'));
  const address = (lab: typeof chain, node: string, peer: string) =>
    lab.plan.nodes.get(node)!.interfaces.find((i) => i.peer === peer)!.address;

  it('a chain has one path, each router answering from the interface facing the probe', () => {
    assert.deepEqual(chain.truth().truePaths('probe', '198.19.1.9'), [
      [
        address(chain, 'r1', 'probe'),
        address(chain, 'r2', 'r1'),
        address(chain, 'r3', 'r2'),
        address(chain, 'r4', 'r3'),
        '198.19.1.9',
      ],
    ]);
    assert.deepEqual(chain.truth().truePaths('target', chain.addressOf('probe')), [
      [
        address(chain, 'r4', 'target'),
        address(chain, 'r3', 'r4'),
        address(chain, 'r2', 'r3'),
        address(chain, 'r1', 'r2'),
        chain.addressOf('probe'),
      ],
    ]);
  });

  it('the diamond has one path per branch, with null for the silent r5', () => {
    const r1 = address(diamond, 'r1', 'probe');
    const r2 = address(diamond, 'r2', 'r1');
    assert.deepEqual(diamond.truth().truePaths('probe', '198.19.100.200'), [
      [r1, r2, address(diamond, 'r3a', 'r2'), address(diamond, 'r4', 'r3a'), null, '198.19.100.200'],
      [r1, r2, address(diamond, 'r3b', 'r2'), address(diamond, 'r4', 'r3b'), null, '198.19.100.200'],
    ]);
  });

  it('a router interface address is reached over the shortest path to its subnet, which may skip the ECMP split', () => {
    const r4FacingR3b = address(diamond, 'r4', 'r3b');
    assert.deepEqual(diamond.truth().truePaths('probe', r4FacingR3b), [
      [address(diamond, 'r1', 'probe'), address(diamond, 'r2', 'r1'), address(diamond, 'r3b', 'r2'), r4FacingR3b],
    ]);
    assert.deepEqual(diamond.truth().truePaths('probe', address(diamond, 'r1', 'probe')), [
      [address(diamond, 'r1', 'probe')],
    ]);
    assert.deepEqual(diamond.truth().truePaths('probe', diamond.addressOf('probe')), [[]]);
  });

  it('branches that look the same to a traceroute are one sequence; a router after a merge answers per branch', () => {
    const lab = openLab(
      parseTopology(`
name: t
nodes: { p: host, r1: router, a: { kind: router, icmp: silent }, b: { kind: router, icmp: silent }, t: { kind: host, lo: [192.0.2.0/24] } }
links: [[p, r1], [r1, a], [r1, b], [a, t], [b, t]]`),
    );
    assert.deepEqual(lab.truth().truePaths('p', '192.0.2.1'), [[address(lab, 'r1', 'p'), null, '192.0.2.1']]);
    const merged = openLab(
      parseTopology(`
name: t
nodes: { p: host, r1: router, a: { kind: router, icmp: silent }, b: { kind: router, icmp: silent }, r2: router, t: { kind: host, lo: [192.0.2.0/24] } }
links: [[p, r1], [r1, a], [r1, b], [a, r2], [b, r2], [r2, t]]`),
    );
    assert.deepEqual(merged.truth().truePaths('p', '192.0.2.1'), [
      [address(merged, 'r1', 'p'), null, address(merged, 'r2', 'a'), '192.0.2.1'],
      [address(merged, 'r1', 'p'), null, address(merged, 'r2', 'b'), '192.0.2.1'],
    ]);
  });

  it('names the owner of an address and refuses addresses that are not in the lab', () => {
    const t = diamond.truth();
    assert.equal(t.nodeOf('198.19.100.77'), 'target');
    assert.equal(t.nodeOf(address(diamond, 'r3a', 'r4')), 'r3a');
    assert.equal(t.nodeOf('198.18.0.0'), undefined, "a subnet address is nobody's");
    assert.throws(() => t.truePaths('probe', '198.18.0.3'), /198\.18\.0\.3 is no address of lab diamond/);
    assert.throws(() => t.truePaths('nobody', '198.19.100.1'), /unknown node "nobody"/);
  });

  it('lists the links as node pairs with both addresses', () => {
    assert.deepEqual(
      diamond
        .truth()
        .trueLinks()
        .map((l) => `${l.a}-${l.b}`),
      ['probe-r1', 'r1-r2', 'r2-r3a', 'r2-r3b', 'r3a-r4', 'r3b-r4', 'r4-r5', 'r5-target'],
    );
    assert.deepEqual(diamond.truth().trueLinks()[0], {
      a: 'probe',
      b: 'r1',
      aAddress: '198.18.0.1',
      bAddress: '198.18.0.2',
      subnet: '198.18.0.0/30',
    });
  });

  it('addressOf is the first interface address, or the lo address of a node without links', () => {
    assert.equal(diamond.addressOf('probe'), '198.18.0.1');
    assert.equal(diamond.addressOf('target'), address(diamond, 'target', 'r5'));
    const lonely = openLab(parseTopology('name: t\nnodes: { a: { kind: host, lo: [198.19.9.0/24] } }'));
    assert.equal(lonely.addressOf('a'), '198.19.9.1');
    assert.throws(() => lonely.addressOf('b'), /unknown node "b"/);
  });
});
