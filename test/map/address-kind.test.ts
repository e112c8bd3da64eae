import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressKind, KIND_BY_CIDR } from '../../src/map/enrich/address-kind.js';
import { parseAddress } from '../../src/net/ip-address.js';
import { RESERVED_RANGES } from '../../src/net/reserved-ranges.js';

const CASES: ReadonlyArray<readonly [address: string, kind: string]> = [
  ['10.0.0.1', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['172.32.0.0', 'public'],
  ['192.168.1.1', 'private'],
  ['fd12:3456::1', 'private'],
  ['100.64.0.0', 'shared'],
  ['100.127.255.255', 'shared'],
  ['100.128.0.0', 'public'],
  ['127.0.0.1', 'loopback'],
  ['::1', 'loopback'],
  ['169.254.10.20', 'link-local'],
  ['fe80::1', 'link-local'],
  ['192.0.2.1', 'documentation'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.255', 'documentation'],
  ['2001:db8::1', 'documentation'],
  ['3fff::1', 'documentation'],
  ['198.18.0.1', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['198.20.0.0', 'public'],
  ['2001:2::1', 'benchmarking'],
  ['224.0.0.1', 'multicast'],
  ['ff02::1', 'multicast'],
  ['0.0.0.0', 'reserved'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'reserved'],
  ['192.88.99.1', 'reserved'],
  ['::ffff:8.8.8.8', 'reserved'],
  ['2002::1', 'reserved'],
  ['8.8.8.8', 'public'],
  ['1.1.1.1', 'public'],
  ['2606:4700:4700::1111', 'public'],
];

describe('address kinds', () => {
  for (const [address, kind] of CASES) {
    it(`${address} is ${kind}`, () => assert.equal(addressKind(parseAddress(address)!), kind));
  }

  it('names only ranges of the reserved list, so a mistyped CIDR cannot silently fall back to "reserved"', () => {
    const reserved = new Set(RESERVED_RANGES.map((r) => r.block.cidr));
    assert.deepEqual(
      Object.keys(KIND_BY_CIDR).filter((cidr) => !reserved.has(cidr)),
      [],
    );
  });
});
