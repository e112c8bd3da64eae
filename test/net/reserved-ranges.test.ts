import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAddress, type Address, type Block } from '../../src/net/ip-address.js';
import { createReservedFilter, RESERVED_RANGES, type BlockStatus } from '../../src/net/reserved-ranges.js';
import { address, block } from '../support/ip.js';

const filter = createReservedFilter();

/** The slow, obvious answer: in some listed range and in no allowed block. */
function naiveReserved(a: Address, allow: Block[] = []): boolean {
  const inside = (b: Block) => b.family === a.family && a.value >= b.first && a.value < b.first + b.size;
  return RESERVED_RANGES.some((r) => inside(r.block)) && !allow.some(inside);
}

describe('RESERVED_RANGES', () => {
  it('names every range canonically, with its RFC', () => {
    for (const r of RESERVED_RANGES) {
      assert.equal(r.block.cidr, r.cidr);
      assert.match(r.rfc, /^RFC \d+$/, r.cidr);
      assert.ok(r.reason.length > 0, r.cidr);
    }
  });

  it('covers the IANA special-purpose and bogon ranges named in the design', () => {
    const cidrs = new Set(RESERVED_RANGES.map((r) => r.cidr));
    for (const cidr of [
      '0.0.0.0/8',
      '10.0.0.0/8',
      '100.64.0.0/10',
      '127.0.0.0/8',
      '169.254.0.0/16',
      '172.16.0.0/12',
      '192.0.0.0/24',
      '192.0.2.0/24',
      '192.88.99.0/24',
      '192.168.0.0/16',
      '198.18.0.0/15',
      '198.51.100.0/24',
      '203.0.113.0/24',
      '224.0.0.0/4',
      '240.0.0.0/4',
      '255.255.255.255/32',
      '::/128',
      '::1/128',
      '::ffff:0:0/96',
      '64:ff9b:1::/48',
      '100::/64',
      '2001::/23',
      '2001::/32',
      '2001:db8::/32',
      '2002::/16',
      'fc00::/7',
      'fe80::/10',
      'ff00::/8',
      '3fff::/20',
    ])
      assert.ok(cidrs.has(cidr), cidr);
  });

  for (const r of RESERVED_RANGES) {
    it(`reserves the first and last address of ${r.cidr}`, () => {
      for (const value of [r.block.first, r.block.first + r.block.size - 1n]) {
        const check = filter.isReserved({ family: r.block.family, value });
        assert.equal(check.reserved, true, formatAddress({ family: r.block.family, value }));
      }
    });
  }
});

describe('isReserved', () => {
  // address → the range named in its reason (the most specific one holding it), or null when clear
  const cases: Array<[string, string | null]> = [
    ['0.0.0.0', '0.0.0.0/8'],
    ['0.255.255.255', '0.0.0.0/8'],
    ['1.0.0.0', null],
    ['1.1.1.1', null],
    ['8.8.8.8', null],
    ['9.255.255.255', null],
    ['10.0.0.0', '10.0.0.0/8'],
    ['10.255.255.255', '10.0.0.0/8'],
    ['11.0.0.0', null],
    ['100.63.255.255', null],
    ['100.64.0.0', '100.64.0.0/10'],
    ['100.127.255.255', '100.64.0.0/10'],
    ['100.128.0.0', null],
    ['126.255.255.255', null],
    ['127.0.0.1', '127.0.0.0/8'],
    ['128.0.0.0', null],
    ['169.253.255.255', null],
    ['169.254.169.254', '169.254.0.0/16'],
    ['169.255.0.0', null],
    ['172.15.255.255', null],
    ['172.16.0.0', '172.16.0.0/12'],
    ['172.31.255.255', '172.16.0.0/12'],
    ['172.32.0.0', null],
    ['191.255.255.255', null],
    ['192.0.0.9', '192.0.0.0/24'],
    ['192.0.1.0', null],
    ['192.0.2.1', '192.0.2.0/24'],
    ['192.0.3.0', null],
    ['192.31.196.1', null],
    ['192.88.98.255', null],
    ['192.88.99.1', '192.88.99.0/24'],
    ['192.88.100.0', null],
    ['192.167.255.255', null],
    ['192.168.1.1', '192.168.0.0/16'],
    ['192.169.0.0', null],
    ['192.175.48.1', null],
    ['198.17.255.255', null],
    ['198.18.0.0', '198.18.0.0/15'],
    ['198.19.255.255', '198.18.0.0/15'],
    ['198.20.0.0', null],
    ['198.51.99.255', null],
    ['198.51.100.1', '198.51.100.0/24'],
    ['198.51.101.0', null],
    ['203.0.112.255', null],
    ['203.0.113.1', '203.0.113.0/24'],
    ['203.0.114.0', null],
    ['223.255.255.255', null],
    ['224.0.0.1', '224.0.0.0/4'],
    ['239.255.255.255', '224.0.0.0/4'],
    ['240.0.0.0', '240.0.0.0/4'],
    ['255.255.255.254', '240.0.0.0/4'],
    ['255.255.255.255', '255.255.255.255/32'],

    ['::', '::/128'],
    ['::1', '::1/128'],
    ['::2', '::/3'],
    ['::ffff:8.8.8.8', '::ffff:0:0/96'],
    ['64:ff9b::8.8.8.8', '64:ff9b::/96'],
    ['64:ff9b:1::1', '64:ff9b:1::/48'],
    ['100::1', '100::/64'],
    ['100:0:0:1::1', '100:0:0:1::/64'],
    ['1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '::/3'],
    ['2000::', null],
    ['2001::1', '2001::/32'],
    ['2001:1::1', '2001::/23'],
    ['2001:2::1', '2001:2::/48'],
    ['2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff', '2001::/23'],
    ['2001:200::', null],
    ['2001:4860:4860::8888', null],
    ['2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', null],
    ['2001:db8::1', '2001:db8::/32'],
    ['2001:db9::', null],
    ['2002:c000:204::1', '2002::/16'],
    ['2003::', null],
    ['2606:4700:4700::1111', null],
    ['3ffd:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null],
    ['3ffe::1', '3ffe::/16'],
    ['3fff::1', '3fff::/20'],
    ['3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff', '3fff::/20'],
    ['3fff:1000::', null],
    ['3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null],
    ['4000::', '4000::/2'],
    ['5f00::1', '5f00::/16'],
    ['8000::', '8000::/1'],
    ['fc00::1', 'fc00::/7'],
    ['fd12:3456::1', 'fc00::/7'],
    ['fe80::1', 'fe80::/10'],
    ['fec0::1', 'fec0::/10'],
    ['ff02::1', 'ff00::/8'],
  ];
  for (const [input, range] of cases) {
    it(`${input} is ${range ? `reserved by ${range}` : 'clear'}`, () => {
      const check = filter.isReserved(address(input));
      if (range === null) {
        assert.deepEqual(check, { reserved: false });
      } else {
        const entry = RESERVED_RANGES.find((r) => r.cidr === range);
        assert.ok(entry, `test setup: ${range} is listed`);
        assert.deepEqual(check, { reserved: true, reason: `${entry.reason} (${range}, ${entry.rfc})` });
      }
    });
  }

  it('agrees with a plain scan of the table for every /16 of IPv4', () => {
    for (let v = 0; v < 2 ** 32; v += 2 ** 16 - 1) {
      const a: Address = { family: 4, value: BigInt(v) };
      assert.equal(filter.isReserved(a).reserved, naiveReserved(a), formatAddress(a));
    }
  });
});

describe('allow-list', () => {
  // allowed blocks → address → reserved?
  const cases: Array<[string, string[], string, boolean]> = [
    ['a whole reserved range re-opened for a lab', ['198.18.0.0/15'], '198.18.0.1', false],
    ['its last address too', ['198.18.0.0/15'], '198.19.255.255', false],
    ['other ranges stay reserved', ['198.18.0.0/15'], '10.0.0.1', true],
    ['a sub-range of a reserved range', ['10.1.0.0/16'], '10.1.2.3', false],
    ['just below the allowed sub-range', ['10.1.0.0/16'], '10.0.255.255', true],
    ['just above the allowed sub-range', ['10.1.0.0/16'], '10.2.0.0', true],
    ['a single address', ['192.168.1.10'], '192.168.1.10', false],
    ['the address next to it', ['192.168.1.10'], '192.168.1.11', true],
    ['a wider block than the reserved range', ['192.0.0.0/16'], '192.0.2.1', false],
    ['an IPv6 allow leaves IPv4 alone', ['::/0'], '10.0.0.1', true],
    ['an IPv4 allow leaves IPv6 alone', ['0.0.0.0/0'], 'fe80::1', true],
    ['an IPv6 sub-range of ULA', ['fd00::/8'], 'fd12::1', false],
    ['the rest of ULA', ['fd00::/8'], 'fc00::1', true],
    ['nested reserved ranges under one allow', ['2001::/23'], '2001::1', false],
    ['an allow of clear space changes nothing', ['8.8.8.0/24'], '8.8.8.8', false],
    ['no allows', [], '198.18.0.1', true],
  ];
  for (const [name, allow, input, reserved] of cases) {
    it(`${name}: ${input} with allow [${allow.join(', ')}] is ${reserved ? 'reserved' : 'clear'}`, () => {
      const f = createReservedFilter(allow.map(block));
      assert.equal(f.isReserved(address(input)).reserved, reserved);
    });
  }
});

describe('blockStatus', () => {
  const cases: Array<[string, string[], BlockStatus]> = [
    ['8.8.8.0/24', [], 'clear'],
    ['8.8.8.8', [], 'clear'],
    ['10.0.0.0/8', [], 'reserved'],
    ['10.20.30.0/24', [], 'reserved'],
    ['10.0.0.1', [], 'reserved'],
    ['0.0.0.0/0', [], 'partly'],
    ['192.0.0.0/16', [], 'partly'],
    ['100.0.0.0/8', [], 'partly'],
    ['198.18.0.0/16', [], 'reserved'],
    // 224/4 and 240/4 (and 255.255.255.255) adjoin, so their union is wholly reserved.
    ['224.0.0.0/3', [], 'reserved'],
    ['192.0.0.0/2', [], 'partly'],
    ['198.18.0.0/16', ['198.18.0.0/15'], 'clear'],
    ['198.18.0.0/16', ['198.18.5.0/24'], 'partly'],
    ['198.18.5.0/24', ['198.18.5.0/24'], 'clear'],
    ['198.18.5.0/25', ['198.18.5.0/24'], 'clear'],
    ['::/0', [], 'partly'],
    ['2000::/3', [], 'partly'],
    ['2a00::/12', [], 'clear'],
    ['4000::/2', [], 'reserved'],
    ['2001:db8::/48', [], 'reserved'],
    ['2001:db8::/32', ['2001:db8::/32'], 'clear'],
    ['2001:db8::/31', [], 'partly'],
    ['2001:db8::/31', ['2001:db8::/32'], 'clear'],
    ['2001::/16', [], 'partly'],
  ];
  for (const [target, allow, status] of cases) {
    it(`${target} with allow [${allow.join(', ')}] is ${status}`, () => {
      assert.equal(createReservedFilter(allow.map(block)).blockStatus(block(target)), status);
    });
  }

  it('agrees with isReserved address by address on small blocks', () => {
    const f = createReservedFilter([block('198.18.5.0/25')]);
    for (const cidr of ['198.18.4.0/23', '198.18.5.0/24', '198.18.5.128/25', '198.18.5.64/26', '192.0.2.0/23']) {
      const b = block(cidr);
      let reserved = 0n;
      for (let v = b.first; v < b.first + b.size; v++) if (f.isReserved({ family: 4, value: v }).reserved) reserved++;
      const expected = reserved === 0n ? 'clear' : reserved === b.size ? 'reserved' : 'partly';
      assert.equal(f.blockStatus(b), expected, cidr);
    }
  });
});

describe('isReserved speed', () => {
  it('answers a stream of IPv4 addresses correctly (ns/call printed, not asserted)', (t) => {
    const allow = [block('198.18.0.0/15')];
    const f = createReservedFilter(allow);
    const values = Array.from({ length: 4096 }, (_, i) => ({ family: 4 as const, value: BigInt((i * 1048573) >>> 0) }));
    const n = 4096 * 256;
    let reserved = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (f.isReserved(values[i & 4095]!).reserved) reserved++;
    const ns = Number(process.hrtime.bigint() - start) / n;
    t.diagnostic(`isReserved IPv4: ${ns.toFixed(0)} ns/call`);
    // The count checks the loop did the real work, so a broken filter still fails here.
    const expected = values.filter((a) => naiveReserved(a, allow)).length * (n / 4096);
    assert.equal(reserved, expected);
    assert.ok(reserved > 0 && reserved < n);
  });
});
