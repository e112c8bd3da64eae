/**
 * IP addresses and CIDR blocks as unsigned integers, so that ranges, containment and overlap are plain
 * arithmetic. Parsing is strict on purpose: a target file is operator input, and a mistyped line must be
 * refused with a reason rather than probed as something the operator did not mean.
 */

export type IpFamily = 4 | 6;

export interface Address {
  family: IpFamily;
  /** The address as an unsigned integer: < 2^32 for IPv4, < 2^128 for IPv6. */
  value: bigint;
}

export interface Block {
  family: IpFamily;
  first: bigint;
  prefixLength: number;
  size: bigint;
  /** Canonical text, e.g. `10.0.0.0/8`, `2001:db8::/32`; a single address is a /32 or /128. */
  cidr: string;
}

export type TargetParse = { ok: true; block: Block } | { ok: false; reason: string };

const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };

// No leading zeros: `010.1.1.1` is 8.1.1.1 to inet_aton but 10.1.1.1 to a reader, so refuse both readings.
const IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const PREFIX = /^(0|[1-9]\d*)$/;

export function parseAddress(text: string): Address | null {
  const s = text.trim();
  if (s.includes(':')) {
    const value = parseIpv6(s);
    return value === null ? null : { family: 6, value };
  }
  const value = parseIpv4(s);
  return value === null ? null : { family: 4, value: BigInt(value) };
}

function parseIpv4(s: string): number | null {
  const m = IPV4.exec(s);
  if (!m) return null;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

/** RFC 4291 §2.2 text forms: full, `::`-compressed, and with a dotted IPv4 tail. Zone ids (`%eth0`) are refused. */
function parseIpv6(s: string): bigint | null {
  const gap = s.indexOf('::');
  if (gap !== -1 && s.indexOf('::', gap + 1) !== -1) return null;
  const head = gap === -1 ? s : s.slice(0, gap);
  const tail = gap === -1 ? '' : s.slice(gap + 2);
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');

  const words = (parts: string[], mayEndInIpv4: boolean): number[] | null => {
    const out: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (mayEndInIpv4 && i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === null) return null;
        out.push(Math.floor(v4 / 0x10000), v4 % 0x10000);
      } else if (HEX_GROUP.test(part)) {
        out.push(parseInt(part, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const before = words(headGroups, gap === -1);
  const after = words(tailGroups, true);
  if (!before || !after) return null;
  const explicit = before.length + after.length;
  if (gap === -1 ? explicit !== 8 : explicit > 7) return null;

  const all = [...before, ...new Array<number>(8 - explicit).fill(0), ...after];
  let value = 0n;
  for (const word of all) value = (value << 16n) | BigInt(word);
  return value;
}

export function formatAddress(a: Address): string {
  return a.family === 4 ? formatIpv4(a.value) : formatIpv6(a.value, true);
}

function formatIpv4(value: bigint): string {
  const v = Number(value);
  return `${Math.floor(v / 0x1000000)}.${Math.floor(v / 0x10000) % 256}.${Math.floor(v / 0x100) % 256}.${v % 256}`;
}

/**
 * RFC 5952 §4: lowercase, no leading zeros, the longest run (first on a tie) of two or more zero groups
 * as `::`. IPv4-mapped addresses keep the dotted tail (§5 recommends it), so `::ffff:1.2.3.4` round-trips.
 */
function formatIpv6(value: bigint, mixed: boolean): string {
  if (mixed && value >> 32n === 0xffffn) return `::ffff:${formatIpv4(value & 0xffffffffn)}`;
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (g: number[]) => g.map((w) => w.toString(16)).join(':');
  if (bestStart === -1) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** The block `first/prefixLength`; throws on a prefix out of range or host bits set (a programming error here). */
export function makeBlock(family: IpFamily, first: bigint, prefixLength: number): Block {
  const bits = BITS[family];
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > bits) {
    throw new RangeError(`prefix length ${prefixLength} is out of range for IPv${family} (0-${bits})`);
  }
  const size = 1n << BigInt(bits - prefixLength);
  if (first < 0n || first >= 1n << BigInt(bits) || first % size !== 0n) {
    throw new RangeError(`${first} is not the start of a /${prefixLength} block`);
  }
  // A /96 or shorter IPv6 prefix has no IPv4 tail to show, so it keeps the hex form (`::ffff:0:0/96`).
  const text = family === 4 ? formatIpv4(first) : formatIpv6(first, prefixLength > 96);
  return { family, first, prefixLength, size, cidr: `${text}/${prefixLength}` };
}

/** One line of a target file: an address or a CIDR. Refuses, with the reason, anything it would have to guess at. */
export function parseTarget(text: string): TargetParse {
  const s = text.trim();
  const fail = (reason: string): TargetParse => ({ ok: false, reason });
  if (s === '') return fail('empty target');
  const zone = /%[^/]*/.exec(s);
  if (zone && parseAddress(s.slice(0, zone.index))?.family === 6) {
    return fail(`zone ids (${zone[0]}) are not allowed in targets: "${s}"`);
  }

  const slash = s.indexOf('/');
  const addressText = slash === -1 ? s : s.slice(0, slash);
  const address = /\s/.test(addressText) ? null : parseAddress(addressText);
  if (!address) return fail(diagnoseIpv4(addressText, s) ?? `not an IPv4 or IPv6 address or CIDR: "${s}"`);
  const bits = BITS[address.family];
  if (slash === -1) return { ok: true, block: makeBlock(address.family, address.value, bits) };

  const prefixText = s.slice(slash + 1);
  if (prefixText === '') return fail(`missing prefix length after "/": "${s}"`);
  if (!PREFIX.test(prefixText))
    return fail(`prefix length "${prefixText}" is not a decimal number without leading zeros: "${s}"`);
  const prefixLength = Number(prefixText);
  if (prefixLength > bits)
    return fail(`prefix length ${prefixText} is out of range for IPv${address.family} (0-${bits})`);

  const hostMask = (1n << BigInt(bits - prefixLength)) - 1n;
  if ((address.value & hostMask) !== 0n) {
    const network = makeBlock(address.family, address.value & ~hostMask, prefixLength);
    return fail(`host bits are set in ${formatAddress(address)}/${prefixLength}; the network is ${network.cidr}`);
  }
  return { ok: true, block: makeBlock(address.family, address.value, prefixLength) };
}

/** A sharper reason than "not an address" for the two IPv4 slips people make: leading zeros and octets over 255. */
function diagnoseIpv4(addressText: string, whole: string): string | null {
  const octets = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(addressText)?.slice(1);
  if (!octets) return null;
  if (octets.some((o) => o.length > 1 && o.startsWith('0'))) {
    return `leading zeros are not allowed in IPv4 addresses (octal or decimal?): "${whole}"`;
  }
  const big = octets.find((o) => Number(o) > 255);
  return big === undefined ? null : `octet ${big} is out of range (0-255): "${whole}"`;
}

/** The "same subnet" unit that consecutive targets are kept out of: the /24 for IPv4, the /48 for IPv6. */
export function prefixKey(a: Address): string {
  const prefixLength = a.family === 4 ? 24 : 48;
  const hostBits = BigInt(BITS[a.family] - prefixLength);
  return makeBlock(a.family, (a.value >> hostBits) << hostBits, prefixLength).cidr;
}

export function addressInBlock(a: Address, b: Block): boolean {
  return a.family === b.family && a.value >= b.first && a.value < b.first + b.size;
}

export function blocksOverlap(a: Block, b: Block): boolean {
  return a.family === b.family && a.first < b.first + b.size && b.first < a.first + a.size;
}
