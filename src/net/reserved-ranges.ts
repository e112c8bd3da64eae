/**
 * Address ranges hopmap never probes: the IANA IPv4/IPv6 special-purpose registries (RFC 6890, as amended)
 * plus the bogons Team Cymru lists (multicast, 240/4, and all IPv6 outside 2000::/3). Operators can re-open a
 * range for a lab with an allow-list.
 */
import { addressInBlock, parseTarget, type Address, type Block, type IpFamily } from './ip-address.js';

export interface ReservedRange {
  cidr: string;
  block: Block;
  reason: string;
  rfc: string;
}

export type ReservedCheck = { reserved: true; reason: string } | { reserved: false };
export type BlockStatus = 'clear' | 'reserved' | 'partly';

export interface ReservedFilter {
  isReserved(a: Address): ReservedCheck;
  /** `clear`: no address of b is reserved (after allows); `reserved`: every one is; `partly`: some are. */
  blockStatus(b: Block): BlockStatus;
}

// Ranges may nest; an address takes the reason of the most specific range that holds it.
const TABLE: ReadonlyArray<readonly [cidr: string, reason: string, rfc: string]> = [
  ['0.0.0.0/8', '"this network"', 'RFC 791'],
  ['10.0.0.0/8', 'private use', 'RFC 1918'],
  ['100.64.0.0/10', 'shared address space (carrier-grade NAT)', 'RFC 6598'],
  ['127.0.0.0/8', 'loopback', 'RFC 1122'],
  ['169.254.0.0/16', 'link-local', 'RFC 3927'],
  ['172.16.0.0/12', 'private use', 'RFC 1918'],
  // Whole /24 as Team Cymru lists it, though a few /32s in it (PCP, TURN anycast) are globally reachable.
  ['192.0.0.0/24', 'IETF protocol assignments', 'RFC 6890'],
  ['192.0.2.0/24', 'documentation (TEST-NET-1)', 'RFC 5737'],
  ['192.88.99.0/24', '6to4 relay anycast, deprecated', 'RFC 7526'],
  ['192.168.0.0/16', 'private use', 'RFC 1918'],
  ['198.18.0.0/15', 'benchmarking', 'RFC 2544'],
  ['198.51.100.0/24', 'documentation (TEST-NET-2)', 'RFC 5737'],
  ['203.0.113.0/24', 'documentation (TEST-NET-3)', 'RFC 5737'],
  ['224.0.0.0/4', 'multicast', 'RFC 5771'],
  ['240.0.0.0/4', 'reserved for future use', 'RFC 1112'],
  ['255.255.255.255/32', 'limited broadcast', 'RFC 919'],

  // IANA allocates global unicast only from 2000::/3; the rest is unrouted (Team Cymru fullbogons).
  ['::/3', 'outside 2000::/3, the only IPv6 global unicast space', 'RFC 3587'],
  ['4000::/2', 'outside 2000::/3, the only IPv6 global unicast space', 'RFC 3587'],
  ['8000::/1', 'outside 2000::/3, the only IPv6 global unicast space', 'RFC 3587'],
  ['::/128', 'unspecified address', 'RFC 4291'],
  ['::1/128', 'loopback', 'RFC 4291'],
  ['::ffff:0:0/96', 'IPv4-mapped addresses', 'RFC 4291'],
  ['64:ff9b::/96', 'IPv4/IPv6 translation well-known prefix (NAT64)', 'RFC 6052'],
  ['64:ff9b:1::/48', 'local-use IPv4/IPv6 translation', 'RFC 8215'],
  ['100::/64', 'discard-only', 'RFC 6666'],
  ['100:0:0:1::/64', 'dummy IPv6 prefix', 'RFC 9780'],
  // Whole /23 as bogon lists do, though a few assignments in it (AMT, AS112-v6) are globally reachable.
  ['2001::/23', 'IETF protocol assignments', 'RFC 2928'],
  ['2001::/32', 'Teredo', 'RFC 4380'],
  ['2001:2::/48', 'benchmarking', 'RFC 5180'],
  ['2001:db8::/32', 'documentation', 'RFC 3849'],
  ['2002::/16', '6to4', 'RFC 3056'],
  ['3ffe::/16', 'former 6bone, returned to IANA', 'RFC 3701'],
  ['3fff::/20', 'documentation', 'RFC 9637'],
  ['5f00::/16', 'segment routing (SRv6) SIDs', 'RFC 9602'],
  ['fc00::/7', 'unique local addresses', 'RFC 4193'],
  ['fe80::/10', 'link-local', 'RFC 4291'],
  ['fec0::/10', 'site-local, deprecated', 'RFC 3879'],
  ['ff00::/8', 'multicast', 'RFC 4291'],
];

export const RESERVED_RANGES: ReadonlyArray<ReservedRange> = Object.freeze(
  TABLE.map(([cidr, reason, rfc]) => {
    const parsed = parseTarget(cidr);
    if (!parsed.ok) throw new Error(`reserved range ${cidr}: ${parsed.reason}`);
    return Object.freeze({ cidr, block: parsed.block, reason, rfc });
  }),
);

const NOT_RESERVED: ReservedCheck = Object.freeze({ reserved: false });

/** Disjoint, sorted intervals [start, end) of one family, each with the (shared, preallocated) check result. */
interface Interval {
  start: bigint;
  end: bigint;
  check: ReservedCheck;
}

export function createReservedFilter(allow: readonly Block[] = []): ReservedFilter {
  const v4 = flatten(4, allow);
  const v6 = flatten(6, allow);
  // IPv4 lookups are the hot path (~50k/s); doubles hold every IPv4 bound exactly, so no bigint per call.
  const v4Starts = Float64Array.from(v4, (i) => Number(i.start));
  const v4Ends = Float64Array.from(v4, (i) => Number(i.end));
  const v4Checks = v4.map((i) => i.check);

  return {
    isReserved(a) {
      if (a.family === 4) {
        const x = Number(a.value);
        let lo = 0;
        let hi = v4Starts.length - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >>> 1;
          if (v4Starts[mid]! <= x) lo = mid + 1;
          else hi = mid - 1;
        }
        return hi >= 0 && x < v4Ends[hi]! ? v4Checks[hi]! : NOT_RESERVED;
      }
      const x = a.value;
      let lo = 0;
      let hi = v6.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (v6[mid]!.start <= x) lo = mid + 1;
        else hi = mid - 1;
      }
      return hi >= 0 && x < v6[hi]!.end ? v6[hi]!.check : NOT_RESERVED;
    },

    blockStatus(b) {
      const start = b.first;
      const end = b.first + b.size;
      let covered = 0n;
      for (const i of b.family === 4 ? v4 : v6) {
        if (i.end <= start) continue;
        if (i.start >= end) break;
        covered += (i.end < end ? i.end : end) - (i.start > start ? i.start : start);
      }
      return covered === 0n ? 'clear' : covered === b.size ? 'reserved' : 'partly';
    },
  };
}

/**
 * Cuts the family's number line at every range and allow boundary, then labels each piece with the most specific
 * reserved range holding it, unless an allowed block holds it. Built once per filter; there are only a few dozen
 * boundaries, so the quadratic scan is immaterial.
 */
function flatten(family: IpFamily, allow: readonly Block[]): Interval[] {
  const ranges = RESERVED_RANGES.filter((r) => r.block.family === family);
  const allowed = allow.filter((b) => b.family === family);
  const cuts = new Set<bigint>();
  for (const b of [...ranges.map((r) => r.block), ...allowed]) cuts.add(b.first).add(b.first + b.size);
  const points = [...cuts].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));

  const checks = new Map<ReservedRange, ReservedCheck>(
    ranges.map((r) => [r, Object.freeze({ reserved: true, reason: `${r.reason} (${r.cidr}, ${r.rfc})` })]),
  );
  const out: Interval[] = [];
  for (let k = 0; k + 1 < points.length; k++) {
    const start = points[k]!;
    const end = points[k + 1]!;
    const at = { family, value: start };
    if (allowed.some((b) => addressInBlock(at, b))) continue;
    let best: ReservedRange | undefined;
    for (const r of ranges) {
      if (addressInBlock(at, r.block) && (!best || r.block.prefixLength > best.block.prefixLength)) best = r;
    }
    if (!best) continue;
    const check = checks.get(best)!;
    const last = out[out.length - 1];
    if (last && last.end === start && last.check === check) last.end = end;
    else out.push({ start, end, check });
  }
  return out;
}
