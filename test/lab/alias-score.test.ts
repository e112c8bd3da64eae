import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scoreAliases, type ResolvedMap } from '../../src/lab/alias-score.js';
import { openLab } from '../../src/lab/open-lab.js';
import { loadTopology } from '../../src/lab/topology.js';

// lab/diamond.yaml: r1 .2 | r2 .6 (from r1), .9, .13 | r3a .10 | r3b .14 | r4 .18 (from r3a), .22 (from r3b), .25 | r5 silent
const diamond = openLab(loadTopology('lab/diamond.yaml'));
const a = (n: number) => `198.18.0.${n}`;
const LINK_ENDS = [2, 6, 10, 14, 18, 22].map(a);

function map(routers: string[][], links: Array<[number, number]>): ResolvedMap {
  return {
    linkEnds: LINK_ENDS,
    routers: new Map(routers.map((r) => [r[0]!, r])),
    routerLinks: links.map(([near, far]) => ({ near: a(near), far: a(far) })),
  };
}
const TRUE_ROUTER_LINKS: Array<[number, number]> = [
  [2, 6],
  [6, 10],
  [6, 14],
  [10, 18],
  [14, 18],
];

describe('scoreAliases', () => {
  it("a perfect resolution: every pair of one router's known addresses, every adjacency of known routers", () => {
    const s = scoreAliases(
      diamond,
      map(
        [
          [a(6), a(13)],
          [a(18), a(22)],
        ],
        TRUE_ROUTER_LINKS,
      ),
    );
    assert.deepEqual(s.pairs, { inferred: 2, correct: 2, truth: 2, precision: 1, recall: 1 });
    assert.deepEqual(
      s.routerLinks,
      { inferred: 5, correct: 5, truth: 5, precision: 1, recall: 1 },
      'r1-r2, r2-r3a, r2-r3b, r3a-r4, r3b-r4; r5 and probe are unknown',
    );
    assert.deepEqual([s.routers, s.interfaces, s.falsePairs, s.missedAdjacencies], [2, 4, [], []]);
  });

  it('a false alias lowers precision and is named; an unjoined pair lowers recall', () => {
    const s = scoreAliases(
      diamond,
      map(
        [
          [a(6), a(13)],
          [a(10), a(14)],
        ],
        TRUE_ROUTER_LINKS,
      ),
    );
    assert.deepEqual(
      s.pairs,
      { inferred: 2, correct: 1, truth: 2, precision: 0.5, recall: 0.5 },
      'r3a = r3b is false; .18 = .22 was not found',
    );
    assert.deepEqual(s.falsePairs, [[a(10), a(14)]]);
  });

  it('a router known only from record route (silent) adds alias pairs but no adjacency: no link can lead into it', () => {
    const s = scoreAliases(
      diamond,
      map(
        [
          [a(6), a(13)],
          [a(18), a(22)],
          [a(26), a(29)],
        ],
        TRUE_ROUTER_LINKS,
      ),
    );
    assert.deepEqual(s.pairs, { inferred: 3, correct: 3, truth: 3, precision: 1, recall: 1 });
    assert.deepEqual(
      s.routerLinks,
      { inferred: 5, correct: 5, truth: 5, precision: 1, recall: 1 },
      'r4 - r5 is not counted',
    );
  });

  it('a router link between routers that are not adjacent is false; an adjacency no router link shows is missed', () => {
    const s = scoreAliases(
      diamond,
      map(
        [
          [a(6), a(13)],
          [a(18), a(22)],
        ],
        [
          [2, 6],
          [2, 18],
          [6, 10],
          [6, 14],
          [10, 18],
        ],
      ),
    );
    assert.deepEqual(s.routerLinks, { inferred: 5, correct: 4, truth: 5, precision: 0.8, recall: 0.8 });
    assert.deepEqual(s.missedAdjacencies, [['r3b', 'r4']]);
  });
});
