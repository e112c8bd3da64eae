import type { Address, Block } from '../net/ip-address.js';

/**
 * A set of address ranges (CIDR blocks), merged and sorted per family, answering "is this address in the
 * set?" and "is this whole block in it?" by binary search. IPv4 bounds are plain numbers on the hot path.
 */
export class AddressRangeSet {
  private readonly v4: { starts: number[]; ends: number[] };
  private readonly v6: { starts: bigint[]; ends: bigint[] };

  constructor(blocks: Block[]) {
    this.v4 = merge(
      blocks
        .filter((b) => b.family === 4)
        .map((b) => [Number(b.first), Number(b.first + b.size - 1n)] as [number, number]),
    );
    this.v6 = merge(
      blocks.filter((b) => b.family === 6).map((b) => [b.first, b.first + b.size - 1n] as [bigint, bigint]),
    );
  }

  get empty(): boolean {
    return this.v4.starts.length === 0 && this.v6.starts.length === 0;
  }

  has(a: Address): boolean {
    return a.family === 4 ? within(this.v4, Number(a.value), Number(a.value)) : within(this.v6, a.value, a.value);
  }

  /** True when every address of `b` is in the set. */
  covers(b: Block): boolean {
    return b.family === 4
      ? within(this.v4, Number(b.first), Number(b.first + b.size - 1n))
      : within(this.v6, b.first, b.first + b.size - 1n);
  }
}

function merge<T extends number | bigint>(ranges: Array<[T, T]>): { starts: T[]; ends: T[] } {
  ranges.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const starts: T[] = [];
  const ends: T[] = [];
  for (const [s, e] of ranges) {
    const last = ends.length - 1;
    // Adjacent or overlapping ranges become one, so a block spanning two touching entries is still covered.
    if (last >= 0 && s <= (typeof s === 'bigint' ? (ends[last] as bigint) + 1n : (ends[last] as number) + 1)) {
      if (e > ends[last]!) ends[last] = e;
    } else {
      starts.push(s);
      ends.push(e);
    }
  }
  return { starts, ends };
}

/** Is [lo, hi] inside one merged range? Binary search for the last range starting at or before lo. */
function within<T extends number | bigint>(set: { starts: T[]; ends: T[] }, lo: T, hi: T): boolean {
  let a = 0;
  let b = set.starts.length - 1;
  let found = -1;
  while (a <= b) {
    const mid = (a + b) >> 1;
    if (set.starts[mid]! <= lo) {
      found = mid;
      a = mid + 1;
    } else b = mid - 1;
  }
  return found >= 0 && set.ends[found]! >= hi;
}
