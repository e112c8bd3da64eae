import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressRangeSet } from '../../src/targets/address-range-set.js';
import { address, block } from '../support/ip.js';

describe('AddressRangeSet', () => {
  const set = new AddressRangeSet(
    ['20.0.0.0/25', '20.0.0.128/25', '30.0.0.8/29', '30.0.0.0/30', '2001:db8::/126', '20.0.0.64/26'].map(block),
  );

  const membership: Array<[string, boolean]> = [
    ['20.0.0.0', true],
    ['20.0.0.255', true],
    ['20.0.1.0', false],
    ['19.255.255.255', false],
    ['30.0.0.3', true],
    ['30.0.0.4', false],
    ['30.0.0.8', true],
    ['30.0.0.15', true],
    ['30.0.0.16', false],
    ['2001:db8::3', true],
    ['2001:db8::4', false],
    ['20.0.0.1', true],
  ];
  for (const [a, expected] of membership)
    it(`${a} ${expected ? 'is' : 'is not'} in the set`, () => assert.equal(set.has(address(a)), expected));

  const covering: Array<[string, boolean]> = [
    ['20.0.0.0/24', true], // two adjacent /25s merged
    ['20.0.0.0/23', false],
    ['30.0.0.0/28', false], // 30.0.0.4-7 missing
    ['30.0.0.8/30', true],
    ['2001:db8::/127', true],
    ['2001:db8::/125', false],
  ];
  for (const [b, expected] of covering)
    it(`${b} ${expected ? 'is' : 'is not'} covered`, () => assert.equal(set.covers(block(b)), expected));

  it('is empty without ranges', () => {
    const none = new AddressRangeSet([]);
    assert.equal(none.empty, true);
    assert.equal(none.has(address('1.2.3.4')), false);
  });
});
