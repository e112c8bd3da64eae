import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addressInBlock,
  blocksOverlap,
  formatAddress,
  parseAddress,
  parseTarget,
  prefixKey,
  type Address,
  type IpFamily,
} from '../../src/net/ip-address.js';
import { address, block } from '../support/ip.js';

describe('parseAddress', () => {
  // input → family, canonical text
  const valid: Array<[string, IpFamily, string]> = [
    ['0.0.0.0', 4, '0.0.0.0'],
    ['255.255.255.255', 4, '255.255.255.255'],
    ['10.0.0.1', 4, '10.0.0.1'],
    [' 192.0.2.1 \n', 4, '192.0.2.1'],
    ['::', 6, '::'],
    ['::1', 6, '::1'],
    ['0:0:0:0:0:0:0:0', 6, '::'],
    ['2001:DB8::1', 6, '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', 6, '2001:db8::1'],
    // RFC 5952 §4.2.3: the longest run is compressed; on a tie, the first.
    ['2001:0:0:1:0:0:0:1', 6, '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', 6, '2001:db8::1:0:0:1'],
    // RFC 5952 §4.2.2: a single zero group is not compressed.
    ['2001:db8:0:1:1:1:1:1', 6, '2001:db8:0:1:1:1:1:1'],
    ['1:2:3:4:5:6:7::', 6, '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', 6, '0:2:3:4:5:6:7:8'],
    ['1::', 6, '1::'],
    ['fe80::', 6, 'fe80::'],
    ['FFFF:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 6, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    // IPv4-mapped stays IPv6, shown with the dotted tail (RFC 5952 §5).
    ['::ffff:1.2.3.4', 6, '::ffff:1.2.3.4'],
    ['::FFFF:0102:0304', 6, '::ffff:1.2.3.4'],
    ['0:0:0:0:0:ffff:192.0.2.1', 6, '::ffff:192.0.2.1'],
    ['::1.2.3.4', 6, '::102:304'],
    ['64:ff9b::192.0.2.33', 6, '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:1.2.3.4', 6, '1:2:3:4:5:6:102:304'],
  ];
  for (const [input, family, canonical] of valid) {
    it(`parses ${JSON.stringify(input)} as IPv${family} ${canonical}`, () => {
      const a = parseAddress(input);
      assert.ok(a);
      assert.equal(a.family, family);
      assert.equal(formatAddress(a), canonical);
    });
  }

  const values: Array<[string, bigint]> = [
    ['10.0.0.1', 0x0a000001n],
    ['255.255.255.255', 0xffffffffn],
    ['::1', 1n],
    ['::ffff:1.2.3.4', 0xffff01020304n],
    ['2001:db8::', 0x20010db8n << 96n],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', (1n << 128n) - 1n],
  ];
  for (const [input, value] of values) {
    it(`reads ${input} as the integer ${value}`, () => assert.equal(address(input).value, value));
  }

  const invalid = [
    '',
    '   ',
    'foo',
    '10.1',
    '10.1.1',
    '1.2.3.4.5',
    '1.2.3.4.',
    '.1.2.3.4',
    '010.1.1.1',
    '10.1.1.01',
    '00.0.0.0',
    '256.1.1.1',
    '1.2.3.-4',
    '0x0a.0.0.1',
    '１.2.3.4',
    '1.2.3.4/32',
    '1 .2.3.4',
    '4294967295',
    ':::',
    '1:::2',
    '1::2::3',
    ':1::',
    '::1:',
    ':1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '1::2:3:4:5:6:7:8',
    '12345::',
    'g::',
    '::ffff:1.2.3',
    '::ffff:01.2.3.4',
    '::ffff:256.2.3.4',
    '1.2.3.4::',
    '::1.2.3.4:5',
    '1:2:3:4:5:6:7:1.2.3.4',
    '[::1]',
    'fe80::1%eth0',
    'fe80::1%1',
    '::/0',
  ];
  for (const input of invalid) {
    it(`refuses ${JSON.stringify(input)}`, () => assert.equal(parseAddress(input), null));
  }
});

describe('formatAddress', () => {
  it('round-trips addresses across the space, including zero runs', () => {
    let seed = 12345;
    const nextWord = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      // Half the groups zero, so runs of every length and position occur.
      return seed & 1 ? 0 : seed >>> 16;
    };
    for (let n = 0; n < 5000; n++) {
      let v6 = 0n;
      for (let g = 0; g < 8; g++) v6 = (v6 << 16n) | BigInt(nextWord());
      const v4 = BigInt(((nextWord() << 16) | nextWord()) >>> 0);
      for (const a of [
        { family: 6, value: v6 },
        { family: 4, value: v4 },
      ] as Address[]) {
        const text = formatAddress(a);
        assert.deepEqual(parseAddress(text), a, text);
        assert.equal(formatAddress(parseAddress(text)!), text);
      }
    }
  });
});

describe('parseTarget', () => {
  // input → cidr, first address, prefix length, size
  const valid: Array<[string, string, string, number, bigint]> = [
    ['10.0.0.0/8', '10.0.0.0/8', '10.0.0.0', 8, 1n << 24n],
    ['192.0.2.7', '192.0.2.7/32', '192.0.2.7', 32, 1n],
    ['10.0.0.0/32', '10.0.0.0/32', '10.0.0.0', 32, 1n],
    ['0.0.0.0/0', '0.0.0.0/0', '0.0.0.0', 0, 1n << 32n],
    [' 198.51.100.0/24 \r', '198.51.100.0/24', '198.51.100.0', 24, 256n],
    ['2001:db8::/32', '2001:db8::/32', '2001:db8::', 32, 1n << 96n],
    ['2001:DB8:0::/48', '2001:db8::/48', '2001:db8::', 48, 1n << 80n],
    ['::1', '::1/128', '::1', 128, 1n],
    ['::/0', '::/0', '::', 0, 1n << 128n],
    ['::ffff:0:0/96', '::ffff:0:0/96', '::ffff:0.0.0.0', 96, 1n << 32n],
    ['::ffff:1.2.3.0/120', '::ffff:1.2.3.0/120', '::ffff:1.2.3.0', 120, 256n],
  ];
  for (const [input, cidr, first, prefixLength, size] of valid) {
    it(`accepts ${JSON.stringify(input)} as ${cidr}`, () => {
      const b = block(input);
      assert.equal(b.cidr, cidr);
      assert.deepEqual({ family: b.family, value: b.first }, address(first));
      assert.equal(b.prefixLength, prefixLength);
      assert.equal(b.size, size);
    });
  }

  const invalid: Array<[string, string]> = [
    ['', 'empty target'],
    ['  ', 'empty target'],
    ['foo', 'not an IPv4 or IPv6 address or CIDR: "foo"'],
    ['10.1', 'not an IPv4 or IPv6 address or CIDR: "10.1"'],
    ['10.1/16', 'not an IPv4 or IPv6 address or CIDR: "10.1/16"'],
    ['/8', 'not an IPv4 or IPv6 address or CIDR: "/8"'],
    ['10.0.0.0 /8', 'not an IPv4 or IPv6 address or CIDR: "10.0.0.0 /8"'],
    ['2001:db8::g/32', 'not an IPv4 or IPv6 address or CIDR: "2001:db8::g/32"'],
    ['010.1.1.1', 'leading zeros are not allowed in IPv4 addresses (octal or decimal?): "010.1.1.1"'],
    ['10.0.0.256/24', 'octet 256 is out of range (0-255): "10.0.0.256/24"'],
    ['10.0.0.0/', 'missing prefix length after "/": "10.0.0.0/"'],
    ['10.0.0.0/x', 'prefix length "x" is not a decimal number without leading zeros: "10.0.0.0/x"'],
    ['10.0.0.0/08', 'prefix length "08" is not a decimal number without leading zeros: "10.0.0.0/08"'],
    ['10.0.0.0/-1', 'prefix length "-1" is not a decimal number without leading zeros: "10.0.0.0/-1"'],
    ['10.0.0.0/8/8', 'prefix length "8/8" is not a decimal number without leading zeros: "10.0.0.0/8/8"'],
    ['10.0.0.0/33', 'prefix length 33 is out of range for IPv4 (0-32)'],
    ['10.0.0.0/99999999999999999999', 'prefix length 99999999999999999999 is out of range for IPv4 (0-32)'],
    ['2001:db8::/129', 'prefix length 129 is out of range for IPv6 (0-128)'],
    ['10.0.0.1/24', 'host bits are set in 10.0.0.1/24; the network is 10.0.0.0/24'],
    ['10.0.0.0/0', 'host bits are set in 10.0.0.0/0; the network is 0.0.0.0/0'],
    ['2001:DB8::1/32', 'host bits are set in 2001:db8::1/32; the network is 2001:db8::/32'],
    ['::ffff:1.2.3.4/120', 'host bits are set in ::ffff:1.2.3.4/120; the network is ::ffff:1.2.3.0/120'],
    ['fe80::1%eth0', 'zone ids (%eth0) are not allowed in targets: "fe80::1%eth0"'],
    ['fe80::%eth0/64', 'zone ids (%eth0) are not allowed in targets: "fe80::%eth0/64"'],
  ];
  for (const [input, reason] of invalid) {
    it(`refuses ${JSON.stringify(input)}: ${reason}`, () => {
      assert.deepEqual(parseTarget(input), { ok: false, reason });
    });
  }
});

describe('prefixKey', () => {
  const cases: Array<[string, string]> = [
    ['198.51.100.77', '198.51.100.0/24'],
    ['198.51.100.0', '198.51.100.0/24'],
    ['0.0.0.0', '0.0.0.0/24'],
    ['255.255.255.255', '255.255.255.0/24'],
    ['2001:db8:1234:5678::1', '2001:db8:1234::/48'],
    ['2001:db8:1234:ffff:ffff:ffff:ffff:ffff', '2001:db8:1234::/48'],
    ['::1', '::/48'],
    ['::ffff:1.2.3.4', '::/48'],
  ];
  for (const [input, key] of cases) {
    it(`puts ${input} in ${key}`, () => assert.equal(prefixKey(address(input)), key));
  }
});

describe('addressInBlock', () => {
  const cases: Array<[string, string, boolean]> = [
    ['10.0.0.0', '10.0.0.0/8', true],
    ['10.255.255.255', '10.0.0.0/8', true],
    ['9.255.255.255', '10.0.0.0/8', false],
    ['11.0.0.0', '10.0.0.0/8', false],
    ['192.0.2.7', '192.0.2.7', true],
    ['192.0.2.8', '192.0.2.7', false],
    ['255.255.255.255', '0.0.0.0/0', true],
    ['2001:db8:ffff::1', '2001:db8::/32', true],
    ['2001:db9::', '2001:db8::/32', false],
    // Families never mix: the mapped form of 10.0.0.1 is an IPv6 address.
    ['::ffff:10.0.0.1', '10.0.0.0/8', false],
    ['10.0.0.1', '::/0', false],
  ];
  for (const [a, b, inside] of cases) {
    it(`${a} ${inside ? 'is' : 'is not'} in ${b}`, () => assert.equal(addressInBlock(address(a), block(b)), inside));
  }
});

describe('blocksOverlap', () => {
  const cases: Array<[string, string, boolean]> = [
    ['10.0.0.0/8', '10.1.0.0/16', true],
    ['10.0.0.0/8', '10.0.0.0/8', true],
    ['10.0.0.0/8', '11.0.0.0/8', false],
    ['10.0.0.0/24', '10.0.1.0/24', false],
    ['10.0.0.0/23', '10.0.1.0/24', true],
    ['10.0.0.255', '10.0.0.0/24', true],
    ['10.0.1.0', '10.0.0.0/24', false],
    ['0.0.0.0/0', '203.0.113.9', true],
    ['2001:db8::/32', '2001:db8:8000::/33', true],
    ['2001:db8::/33', '2001:db8:8000::/33', false],
    ['::/0', '0.0.0.0/0', false],
  ];
  for (const [a, b, overlap] of cases) {
    it(`${a} and ${b} ${overlap ? 'overlap' : 'do not overlap'}`, () => {
      assert.equal(blocksOverlap(block(a), block(b)), overlap);
      assert.equal(blocksOverlap(block(b), block(a)), overlap);
    });
  }
});
