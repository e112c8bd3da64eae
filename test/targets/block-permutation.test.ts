import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockAddressAt, blockWalkSize, permuteIndex } from '../../src/targets/block-permutation.js';
import { formatAddress, type Block } from '../../src/net/ip-address.js';
import { block } from '../support/ip.js';

function walk(b: Block, key: number, length = blockWalkSize(b)): bigint[] {
  return Array.from({ length }, (_, p) => blockAddressAt(b, key, p));
}

/** The spreading unit: the /24 of an IPv4 address, the /48 of an IPv6 one. */
function unitOf(b: Block, address: bigint): bigint {
  return address >> (b.family === 4 ? 8n : 80n);
}

/** Whether `b` is `a` rotated, i.e. the same cycle started elsewhere. */
function isRotation(a: readonly bigint[], b: readonly bigint[]): boolean {
  const offset = a.indexOf(b[0]!);
  return offset !== -1 && b.every((x, p) => x === a[(p + offset) % a.length]);
}

const KEYS = [0, 1, 0x2545f491, 0xffffffff];
// The first positions of 10.0.4.0/22 under key 42, pinned when the permutation was written.
const GOLDEN_22_KEY_42 = [
  '10.0.5.140',
  '10.0.4.125',
  '10.0.6.140',
  '10.0.7.198',
  '10.0.5.224',
  '10.0.4.61',
  '10.0.6.197',
  '10.0.7.115',
];

describe('blockWalkSize', () => {
  const cases: Array<[string, number]> = [
    ['192.0.2.1', 1],
    ['10.0.0.0/31', 2],
    ['10.0.0.0/24', 256],
    ['10.0.0.0/8', 2 ** 24],
    ['0.0.0.0/0', 2 ** 32],
    // Wider than a /64: one address per /64, at most 2^32 of them.
    ['2001:db8::/63', 2],
    ['2001:db8::/48', 65536],
    ['2001:db8::/32', 2 ** 32],
    ['2000::/3', 2 ** 32],
    // A /64 or narrower: its addresses, at most 2^32 of them.
    ['2001:db8::/64', 2 ** 32],
    ['2001:db8::/96', 2 ** 32],
    ['2001:db8::/97', 2 ** 31],
    ['2001:db8::/120', 256],
    ['2001:db8::1', 1],
  ];
  for (const [cidr, size] of cases) {
    it(`${cidr} walks ${size} positions`, () => assert.equal(blockWalkSize(block(cidr)), size));
  }
});

describe('blockAddressAt visits every address exactly once', () => {
  for (const cidr of [
    '192.0.2.7',
    '10.0.0.0/31',
    '10.0.0.4/30',
    '10.0.0.8/29',
    '10.9.8.0/24',
    '10.0.0.0/23',
    '10.0.4.0/22',
    '10.0.16.0/20',
    '172.20.0.0/16',
  ]) {
    it(cidr, () => {
      const b = block(cidr);
      for (const key of KEYS) {
        const offsets = walk(b, key).map((a) => a - b.first);
        assert.ok(
          offsets.every((o) => o >= 0n && o < b.size),
          `${cidr} key ${key}: an address outside the block`,
        );
        assert.equal(new Set(offsets).size, Number(b.size), `${cidr} key ${key}: an address repeats`);
      }
    });
  }

  it('an IPv6 /48 walks its 65536 /64s, each at ::1', () => {
    const b = block('2001:db8:abcd::/48');
    const subnets = new Set<bigint>();
    for (const a of walk(b, 7)) {
      assert.equal(a & ((1n << 64n) - 1n), 1n, `${formatAddress({ family: 6, value: a })} is not the ::1 of its /64`);
      subnets.add((a - b.first) >> 64n);
    }
    assert.equal(subnets.size, 65536);
    assert.ok([...subnets].every((s) => s >= 0n && s < 65536n));
  });

  it('an IPv6 /120 walks its 256 addresses', () => {
    const b = block('2001:db8::100/120');
    const offsets = new Set(walk(b, 7).map((a) => a - b.first));
    assert.equal(offsets.size, 256);
    assert.ok([...offsets].every((o) => o >= 0n && o < 256n));
  });

  it('an IPv6 /64 walks the first 2^32 addresses, a /16 the first 2^32 /64s', () => {
    const narrow = block('2001:db8::/64');
    const wide = block('2001::/16');
    for (let p = 0; p < 2 ** 32; p += 104_729_011) {
      const n = blockAddressAt(narrow, 3, p) - narrow.first;
      assert.ok(n >= 0n && n < 2n ** 32n);
      const w = blockAddressAt(wide, 3, p) - wide.first;
      assert.equal(w & ((1n << 64n) - 1n), 1n);
      assert.ok(w >> 64n < 2n ** 32n);
    }
  });
});

describe('permuteIndex', () => {
  for (const n of [1, 2, 3, 5, 7, 255, 256, 257, 1000, 65537]) {
    it(`is a bijection on [0, ${n})`, () => {
      for (const key of KEYS) {
        const images = Array.from({ length: n }, (_, i) => permuteIndex(i, n, key));
        assert.ok(images.every((x) => Number.isInteger(x) && x >= 0 && x < n));
        assert.equal(new Set(images).size, n, `key ${key}`);
      }
    });
  }

  it('depends on the key', () => {
    const orders = KEYS.map((key) => Array.from({ length: 1000 }, (_, i) => permuteIndex(i, 1000, key)).join());
    assert.equal(new Set(orders).size, KEYS.length);
  });
});

describe('subnet spreading', () => {
  for (const cidr of ['10.0.0.0/23', '10.0.4.0/22', '10.0.16.0/20', '172.20.0.0/16', '2001:db8::/46']) {
    it(`consecutive positions of ${cidr} are never in the same ${cidr.includes(':') ? '/48' : '/24'}`, () => {
      const b = block(cidr);
      for (const key of KEYS.slice(0, 2)) {
        const units = walk(b, key).map((a) => unitOf(b, a));
        for (let p = 0; p + 1 < units.length; p++)
          assert.notEqual(units[p], units[p + 1], `key ${key}, positions ${p} and ${p + 1}`);
      }
    });
  }

  for (const [cidr, units] of [
    ['11.0.0.0/8', 2 ** 16],
    ['0.0.0.0/0', 2 ** 24],
    ['2001:db8::/32', 2 ** 16],
  ] as const) {
    it(`consecutive positions of ${cidr} differ in unit, sampled at round boundaries and at random`, () => {
      const b = block(cidr);
      const size = blockWalkSize(b);
      const positions: number[] = [];
      for (let round = 1; round < 200; round++) positions.push(round * units - 1);
      let x = 1;
      for (let n = 0; n < 5000; n++) positions.push((x = (x * 48271) % 2147483647) % (size - 1));
      for (const p of positions) {
        assert.notEqual(
          unitOf(b, blockAddressAt(b, 5, p)),
          unitOf(b, blockAddressAt(b, 5, p + 1)),
          `positions ${p} and ${p + 1}`,
        );
      }
    });
  }

  it('gives every /24 its own host order, not a shared one', () => {
    const b = block('172.20.0.0/16');
    const hostOrders = new Map<bigint, number[]>();
    for (const a of walk(b, 9)) {
      const order = hostOrders.get(unitOf(b, a)) ?? [];
      order.push(Number(a & 255n));
      hostOrders.set(unitOf(b, a), order);
    }
    const orders = [...hostOrders.values()];
    assert.equal(orders.length, 256);
    // Compare the cycles: one order being a shifted copy of another is still a shared pattern.
    const canonical = (o: number[]) => {
      const at = o.indexOf(0);
      return [...o.slice(at), ...o.slice(0, at)].join();
    };
    assert.equal(new Set(orders.map(canonical)).size, 256);
  });
});

describe('walk order', () => {
  it('is the same for the same block and key (consumers resume by position)', () => {
    const b = block('10.0.4.0/22');
    assert.deepEqual(walk(b, 42), walk(b, 42));
    // Pinned so a change to the permutation, which would scramble walks in progress, cannot go unnoticed.
    assert.deepEqual(
      walk(b, 42, 8).map((a) => formatAddress({ family: 4, value: a })),
      GOLDEN_22_KEY_42,
    );
  });

  for (const cidr of ['10.9.8.0/24', '10.0.4.0/22', '172.20.0.0/16']) {
    it(`of ${cidr} differs between keys, and not merely by rotation`, () => {
      const b = block(cidr);
      const walks = [0, 1, 2, 0x80000000, 0xffffffff].map((key) => walk(b, key));
      for (let i = 0; i < walks.length; i++) {
        for (let j = i + 1; j < walks.length; j++) {
          assert.notDeepEqual(walks[i], walks[j]);
          assert.equal(isRotation(walks[i]!, walks[j]!), false, `walks ${i} and ${j}`);
        }
      }
    });
  }

  it('visits the /24s of a /16 in a key-dependent order', () => {
    const b = block('172.20.0.0/16');
    const unitOrder = (key: number) =>
      walk(b, key, 256)
        .map((a) => unitOf(b, a))
        .join();
    assert.equal(new Set([0, 1, 2, 3].map(unitOrder)).size, 4);
  });

  it('does not step to a numerically adjacent address', () => {
    for (const cidr of ['10.9.8.0/24', '2001:db8::/120']) {
      const b = block(cidr);
      const addresses = walk(b, 11);
      let adjacent = 0;
      for (let p = 0; p + 1 < addresses.length; p++) {
        const d = addresses[p + 1]! - addresses[p]!;
        if (d === 1n || d === -1n) adjacent++;
      }
      // A uniformly random order of 256 has about 2 such steps; a counting order would have 255.
      assert.ok(adjacent <= 8, `${cidr}: ${adjacent} adjacent steps`);
      assert.notDeepEqual(
        addresses,
        [...addresses].sort((x, y) => (x < y ? -1 : 1)),
      );
    }
  });
});

describe('argument checks', () => {
  const b = block('10.0.0.0/24');
  const bad: Array<[string, () => unknown]> = [
    ['negative position', () => blockAddressAt(b, 0, -1)],
    ['position at the walk size', () => blockAddressAt(b, 0, 256)],
    ['fractional position', () => blockAddressAt(b, 0, 1.5)],
    ['NaN position', () => blockAddressAt(b, 0, Number.NaN)],
    ['negative key', () => blockAddressAt(b, -1, 0)],
    ['key of 2^32', () => blockAddressAt(b, 2 ** 32, 0)],
    ['fractional key', () => blockAddressAt(b, 0.5, 0)],
    ['permuteIndex with n = 0', () => permuteIndex(0, 0, 0)],
    ['permuteIndex with n > 2^32', () => permuteIndex(0, 2 ** 32 + 1, 0)],
    ['permuteIndex with index = n', () => permuteIndex(7, 7, 0)],
  ];
  for (const [name, call] of bad) it(`refuses a ${name}`, () => assert.throws(call, RangeError));

  it('accepts the last position and the largest key', () => {
    assert.ok(blockAddressAt(b, 0xffffffff, 255) >= b.first);
  });
});

describe('blockAddressAt speed', () => {
  for (const cidr of ['11.0.0.0/8', '10.9.8.0/24', '2001:db8::/48']) {
    it(`${cidr} (ns/call printed, not asserted)`, (t) => {
      const b = block(cidr);
      const size = blockWalkSize(b);
      const n = 500_000;
      let outside = 0;
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        const a = blockAddressAt(b, 0x9e3779b9, (i * 7919) % size);
        if (a < b.first || a >= b.first + b.size) outside++;
      }
      const ns = Number(process.hrtime.bigint() - start) / n;
      t.diagnostic(`blockAddressAt ${cidr}: ${ns.toFixed(0)} ns/call`);
      assert.equal(outside, 0);
    });
  }
});
