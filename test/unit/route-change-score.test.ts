import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitsTruth, mustMove } from '../../src/lab/route-change-score.js';

const T = '198.19.2.1';
const picture = (hops: string[][], reached = true) => ({ hops, reached });

describe('scoring route changes against the lab', () => {
  it('a route must move when every true path now answers differently somewhere', () => {
    assert.equal(mustMove(picture([['a'], ['b'], [T]]), [['a', 'c', T]], false), true);
    assert.equal(mustMove(picture([['a'], ['b'], [T]]), [['a', 'b', 'c', T]], false), true, 'longer now');
    assert.equal(
      mustMove(
        picture([['a'], ['b'], [T]]),
        [
          ['a', 'c', T],
          ['a', 'b', T],
        ],
        false,
      ),
      false,
      'still one',
    );
  });

  it('not where the only difference is a silent router: traceroute cannot see it', () => {
    assert.equal(mustMove(picture([['a'], ['b'], [T]]), [['a', null, T]], false), false);
  });

  it('a picture cut short by the stop set moves only where what it saw differs', () => {
    assert.equal(mustMove(picture([[], ['b']], false), [['a', 'b', 'c', T]], false), false);
    assert.equal(mustMove(picture([[], ['b']], false), [['a', 'x', 'c', T]], false), true);
  });

  it('a multipath route moves when a TTL shares no interface with any true path', () => {
    const mp = picture([['a'], ['b', 'c'], [T]]);
    assert.equal(mustMove(mp, [['a', 'c', T]], true), false, 'one branch left');
    assert.equal(
      mustMove(
        mp,
        [
          ['a', 'd', T],
          ['a', 'e', T],
        ],
        true,
      ),
      true,
    );
  });

  it('a path is true when every TTL it answered holds the true address', () => {
    const truth = [['a', 'b', T]];
    assert.equal(fitsTruth([['a'], ['b'], [T]], truth, false), true);
    assert.equal(fitsTruth([['a'], [], [T]], truth, false), true, 'a `*` fits anything');
    assert.equal(fitsTruth([['a'], ['c'], [T]], truth, false), false);
    assert.equal(fitsTruth([['a'], ['b'], [T], ['x']], truth, false), false, 'longer than the path');
    const branches = [
      ['a', 'b', T],
      ['a', 'c', T],
    ];
    assert.equal(fitsTruth([['a'], ['b', 'c'], [T]], branches, true), true, 'multipath: every branch');
  });
});
