import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allTrueLinks,
  linkPair,
  linksByAs,
  linkNodes,
  rateLimitedEnds,
  reachableTruth,
  scoreMap,
} from '../../src/lab/lab-report.js';
import { openLab } from '../../src/lab/open-lab.js';
import { bootstrapAddresses, loadTopology } from '../../src/lab/topology.js';

// `hopmap lab truth lab/diamond.yaml`: probe .1 | r1 .2 (from probe) | r2 .6 (from r1), .9 (to r3a), .13 (to r3b) |
// r3a .10 (from r2) | r3b .14 (from r2) | r4 .18 (from r3a), .22 (from r3b), .25 (to r5) | r5 silent .26, .29
const diamond = openLab(loadTopology('lab/diamond.yaml'));
const DIAMOND_REACHABLE = [
  '198.18.0.10>198.18.0.18',
  '198.18.0.14>198.18.0.22',
  '198.18.0.2>198.18.0.6',
  '198.18.0.6>198.18.0.10',
  '198.18.0.6>198.18.0.14',
];

describe('reachableTruth', () => {
  it('on the diamond from one seed: both branches, and every hop traced in turn', () => {
    const truth = reachableTruth(diamond, ['probe'], ['198.19.100.1']);
    assert.deepEqual([...truth.links].sort(), DIAMOND_REACHABLE);
    assert.deepEqual([...truth.destinations].sort(), [
      '198.18.0.10',
      '198.18.0.14',
      '198.18.0.18',
      '198.18.0.2',
      '198.18.0.22',
      '198.18.0.6',
      '198.19.100.1',
    ]);
  });

  it('a silent router breaks the chain: no link into or out of r5, none across it', () => {
    const { links } = reachableTruth(diamond, ['probe'], ['198.19.100.1']);
    const r5 = ['198.18.0.26', '198.18.0.29'];
    assert.deepEqual(
      [...links].filter((l) => r5.some((a) => l.includes(a)) || l.endsWith('>198.19.100.1')),
      [],
    );
    // Traced as a destination r5 answers echo, so a link to its own address does exist; the closure never sees it.
    const all = allTrueLinks(diamond, ['probe']);
    assert.ok(all.has('198.18.0.18>198.18.0.26'));
    assert.ok(!all.has('198.18.0.18>198.19.100.1'));
  });

  it('on the small internet from its three vantages: links crossing every pair of adjacent ASes, both ways, none touching a silent router', () => {
    const internet = openLab(loadTopology('lab/internet.yaml'));
    const asOf = (node: string) => internet.plan.nodes.get(node)!.as;
    const adjacent = new Set(
      internet.plan.links.filter((l) => asOf(l.a) !== asOf(l.b)).map((l) => [asOf(l.a), asOf(l.b)].sort().join('-')),
    );
    assert.deepEqual([...adjacent].sort(), ['64500-64501', '64500-64502', '64500-64503', '64502-64503']);

    const truth = reachableTruth(internet, ['v1', 'v2', 'v3'], bootstrapAddresses(internet.plan));
    assert.equal(truth.links.size, 287);
    assert.equal(truth.destinations.size, 76);
    const crossing = linksByAs(internet, truth.links).filter((r) => r.nearAs !== r.farAs);
    assert.deepEqual(
      crossing.map((r) => `${r.nearAs}>${r.farAs} ${r.links}`),
      [
        '64501>64500 22',
        '64502>64500 20',
        '64500>64501 16',
        '64500>64502 16',
        '64503>64500 16',
        '64502>64503 9',
        '64503>64502 9',
        '64500>64503 5',
      ],
    );
    const silent = new Set(['c6', 'wa2', 'se2']);
    const ends = [...truth.links].flatMap((k) => Object.values(linkPair(k)));
    assert.deepEqual(
      ends.filter((a) => silent.has(internet.truth().nodeOf(a)!)),
      [],
    );
  });
});

describe('scoreMap', () => {
  const truth = reachableTruth(diamond, ['probe'], ['198.19.100.1']);
  const allTrue = allTrueLinks(diamond, ['probe']);

  it('reports a made-up link as false, a missed reachable link as missed, and the arithmetic of precision and recall', () => {
    const score = scoreMap(truth, allTrue, [
      linkPair('198.18.0.2>198.18.0.6'),
      linkPair('198.18.0.6>198.18.0.10'),
      linkPair('198.18.0.10>198.18.0.18'),
      linkPair('198.18.0.10>198.18.0.18'), // found twice, counted once
      linkPair('198.18.0.2>198.18.0.9'), // true (a trace to r2's other address) but beyond what the seed reaches
      { near: '198.18.0.6', far: '198.18.0.22' }, // made up: r2 and r4 are not neighbours
    ]);
    assert.deepEqual(score, {
      discovered: 5,
      trueDiscovered: 4,
      falseLinks: [{ near: '198.18.0.6', far: '198.18.0.22' }],
      missed: [
        { near: '198.18.0.14', far: '198.18.0.22' },
        { near: '198.18.0.6', far: '198.18.0.14' },
      ],
      precision: 0.8,
      recall: 0.6,
    });
  });

  it('a perfect map scores 1 and 1; an empty one misses everything', () => {
    const perfect = scoreMap(truth, allTrue, DIAMOND_REACHABLE.map(linkPair));
    assert.deepEqual([perfect.precision, perfect.recall, perfect.falseLinks, perfect.missed], [1, 1, [], []]);
    const empty = scoreMap(truth, allTrue, []);
    assert.deepEqual([empty.discovered, empty.precision, empty.recall, empty.missed.length], [0, 1, 0, 5]);
  });

  it('allTrueLinks covers traces to every address of the lab, each lo address its own far end', () => {
    // On the diamond every lo address sits behind the silent r5: the 15 links are those to interface addresses.
    assert.equal(allTrue.size, 15);
    assert.ok(allTrue.has('198.18.0.2>198.18.0.13'));
    assert.ok(!allTrue.has('198.18.0.6>198.18.0.22'));
    const chain = openLab(loadTopology('lab/chain.yaml'));
    const r4 = chain.plan.nodes.get('r4')!.interfaces.find((i) => i.peer === 'r3')!.address;
    const links = allTrueLinks(chain, ['probe']);
    // Every router answers on the chain, so each of the 16 lo addresses is the far end of a link from r4.
    assert.deepEqual(
      [...links].filter((l) => l.includes('198.19.1.')).sort(),
      Array.from({ length: 16 }, (_, i) => `${r4}>198.19.1.${i}`).sort(),
    );
  });
});

describe('linksByAs', () => {
  it('counts links per AS pair, most first, with - for nodes without an AS and addresses outside the lab', () => {
    const internet = openLab(loadTopology('lab/internet.yaml'));
    const address = (node: string, peer: string) =>
      internet.plan.nodes.get(node)!.interfaces.find((i) => i.peer === peer)!.address;
    const rows = linksByAs(internet, [
      { near: address('wb1', 'wa1'), far: address('c1', 'wb1') },
      { near: address('wb2', 'wa1'), far: address('c1', 'wb2') },
      `${address('c1', 'wb1')}>${address('c2', 'c1')}`,
      { near: address('c1', 'wb1'), far: '192.0.2.77' },
    ]);
    assert.deepEqual(rows, [
      { nearAs: '64501', farAs: '64500', links: 2 },
      { nearAs: '64500', farAs: '-', links: 1 },
      { nearAs: '64500', farAs: '64500', links: 1 },
    ]);
    assert.deepEqual(linksByAs(diamond, DIAMOND_REACHABLE), [{ nearAs: '-', farAs: '-', links: 5 }]);
  });
});

describe('rateLimitedEnds', () => {
  it('names the rate-limited routers at either end of a link, Linux-like or Cisco-like, and none elsewhere', () => {
    const lab = openLab(loadTopology('lab/ratelimited.yaml'));
    const at = (node: string, peer: string) =>
      lab.plan.nodes.get(node)!.interfaces.find((i) => i.peer === peer)!.address;
    assert.deepEqual(rateLimitedEnds(lab, { near: at('c1', 'wb2'), far: at('c2', 'c1') }), { rateLimited: ['c2'] });
    assert.deepEqual(rateLimitedEnds(lab, { near: at('we2', 'wa1'), far: at('we3', 'we2') }), {
      rateLimited: ['we3'],
    });
    assert.deepEqual(rateLimitedEnds(lab, { near: at('c1', 'wb1'), far: at('c5', 'c1') }), {});
  });
});

describe('linkNodes', () => {
  it("names the lab node of each end, and leaves out an address that is not the lab's", () => {
    const lab = openLab(loadTopology('lab/ratelimited.yaml'));
    const at = (node: string, peer: string) =>
      lab.plan.nodes.get(node)!.interfaces.find((i) => i.peer === peer)!.address;
    assert.deepEqual(linkNodes(lab, { near: at('eb1', 'c4'), far: at('ea2', 'ee1') }), {
      nearNode: 'eb1',
      farNode: 'ea2',
    });
    assert.deepEqual(linkNodes(lab, { near: at('c1', 'c2'), far: '192.0.2.1' }), { nearNode: 'c1' });
  });
});
