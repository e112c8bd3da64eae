// Deterministic "one address per routed /24" sampling (CAIDA Ark style).

import type { Range } from './ipv4.js';

/** Host-octet span inside a partially covered /24, inclusive. */
interface Span {
  readonly lo: number;
  readonly hi: number;
}

export interface Slash24Set {
  /** Sorted, distinct /24 numbers (address >>> 8) with at least one usable host. */
  readonly prefixes: Uint32Array;
  /** Covered host spans for /24s that the ranges only partly cover. */
  readonly partial: ReadonlyMap<number, readonly Span[]>;
}

// .0 and .255 are skipped: they are network/broadcast addresses in many /24s.
const FIRST_HOST = 1;
const LAST_HOST = 254;
const FULL: readonly Span[] = [{ lo: FIRST_HOST, hi: LAST_HOST }];

/** 32-bit FNV-1a, used only to turn the seed string into a number. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * "lowbias32" integer mixer (Chris Wellons). It is a bijection on uint32, so
 * distinct /24s always get distinct ranks and bottom-k selection has no ties.
 */
export function mix32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Every /24 touched by `ranges` (sorted, merged) that has a host in .1-.254. */
export function enumerateSlash24s(ranges: readonly Range[]): Slash24Set {
  const upperBound = ranges.reduce((n, r) => n + (r.end >>> 8) - (r.start >>> 8) + 1, 0);
  const prefixes = new Uint32Array(upperBound);
  const partial = new Map<number, Span[]>();
  let count = 0;
  for (const { start, end } of ranges) {
    const first = start >>> 8;
    const last = end >>> 8;
    for (let prefix = first; prefix <= last; prefix++) {
      // Adjacent merged ranges can still share a /24 (gap inside it): list it once.
      if (count === 0 || prefixes[count - 1] !== prefix) prefixes[count++] = prefix;
      const lo = prefix === first ? start & 0xff : 0;
      const hi = prefix === last ? end & 0xff : 0xff;
      if (lo !== 0 || hi !== 0xff) appendSpan(partial, prefix, { lo, hi });
    }
  }
  return dropUnusable(prefixes.subarray(0, count), partial);
}

function appendSpan(partial: Map<number, Span[]>, prefix: number, span: Span): void {
  const spans = partial.get(prefix);
  if (spans) spans.push(span);
  else partial.set(prefix, [span]);
}

// A /24 whose only covered addresses are .0 and/or .255 has nothing to probe.
function dropUnusable(prefixes: Uint32Array, partial: Map<number, Span[]>): Slash24Set {
  let kept = 0;
  for (const prefix of prefixes) {
    const spans = partial.get(prefix);
    if (spans && usableSpans(spans).length === 0) partial.delete(prefix);
    else prefixes[kept++] = prefix;
  }
  return { prefixes: prefixes.slice(0, kept), partial };
}

function usableSpans(spans: readonly Span[]): Span[] {
  return spans
    .map(({ lo, hi }) => ({ lo: Math.max(lo, FIRST_HOST), hi: Math.min(hi, LAST_HOST) }))
    .filter(({ lo, hi }) => lo <= hi);
}

/**
 * Keeps the `cap` /24s with the smallest hash rank (bottom-k sampling). The
 * sample is spread uniformly over all ranges, and a /24's membership depends
 * only on its own rank, so small data updates change few targets.
 */
export function sampleSlash24s(prefixes: Uint32Array, cap: number, seed: number): Uint32Array {
  if (prefixes.length <= cap) return prefixes.slice();
  if (cap <= 0) return new Uint32Array(0);
  const ranks = prefixes.map((prefix) => mix32(prefix ^ seed));
  const threshold = ranks.slice().sort()[cap - 1] ?? 0;
  // Ranks are distinct (mix32 is a bijection), so exactly `cap` pass the filter.
  return prefixes.filter((_, i) => (ranks[i] ?? Infinity) <= threshold);
}

/** The one address probed in a /24: a seeded hash picks among its usable hosts. */
export function pickAddress(set: Slash24Set, prefix: number, seed: number): number {
  const spans = usableSpans(set.partial.get(prefix) ?? FULL);
  const total = spans.reduce((n, { lo, hi }) => n + hi - lo + 1, 0);
  let offset = mix32(prefix ^ seed) % total;
  for (const { lo, hi } of spans) {
    const size = hi - lo + 1;
    if (offset < size) return prefix * 256 + lo + offset;
    offset -= size;
  }
  throw new Error(`no usable host in /24 ${prefix}`); // unreachable: enumerate dropped those
}

/**
 * Splits `budget` across providers. Each gets level * sqrt(#/24s): big clouds
 * get more targets without crowding out small ones. Clamped to at least
 * `floor` (tiny clouds stay represented) and at most all its /24s; the level
 * is found by bisection so the caps add up to exactly `budget`.
 */
export function allocateBudget(sizes: readonly number[], budget: number, floor: number): number[] {
  if (sum(sizes) <= budget) return [...sizes];
  const capsAt = (level: number): number[] => sizes.map((n) => Math.min(n, Math.max(floor, level * Math.sqrt(n))));
  if (sum(capsAt(0)) >= budget) return capsAt(0); // the floors alone exceed the budget
  let low = 0;
  let high = Math.max(...sizes); // at this level every provider is clamped to its size
  for (let i = 0; i < 100; i++) {
    const mid = (low + high) / 2;
    if (sum(capsAt(mid)) <= budget) low = mid;
    else high = mid;
  }
  return roundToTotal(capsAt(low), sizes, budget);
}

// Largest-remainder rounding that never exceeds a provider's size.
function roundToTotal(values: readonly number[], sizes: readonly number[], total: number): number[] {
  const caps = values.map(Math.floor);
  let left = total - sum(caps);
  const byRemainder = values
    .map((value, i) => ({ i, remainder: value - Math.floor(value) }))
    .sort((a, b) => b.remainder - a.remainder || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left <= 0) break;
    if ((caps[i] ?? 0) < (sizes[i] ?? 0)) {
      caps[i] = (caps[i] ?? 0) + 1;
      left--;
    }
  }
  return caps;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
