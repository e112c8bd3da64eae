// IPv4 helpers. Addresses are plain numbers in 0..2^32-1; ranges are inclusive.

export interface Range {
  readonly start: number;
  readonly end: number;
}

export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) throw new Error(`invalid IPv4 address: ${text}`);
  let value = 0;
  for (const part of parts) {
    const octet = Number(part);
    if (!/^\d{1,3}$/.test(part) || octet > 255) throw new Error(`invalid IPv4 address: ${text}`);
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

export function parseCidr(text: string): Range {
  const [address = '', lengthText = ''] = text.split('/');
  const length = Number(lengthText);
  if (!Number.isInteger(length) || length < 0 || length > 32) throw new Error(`invalid CIDR: ${text}`);
  const size = 2 ** (32 - length);
  const start = parseIpv4(address);
  if (start % size !== 0) throw new Error(`CIDR has host bits set: ${text}`);
  return { start, end: start + size - 1 };
}

// Special-purpose / non-routable space (RFC 6890 and friends): never probe it,
// even if an ASN data row claims it.
export const BOGONS: readonly Range[] = mergeRanges(
  [
    '0.0.0.0/8', // "this network"
    '10.0.0.0/8', // RFC 1918
    '100.64.0.0/10', // carrier-grade NAT
    '127.0.0.0/8', // loopback
    '169.254.0.0/16', // link-local
    '172.16.0.0/12', // RFC 1918
    '192.0.0.0/24', // IETF protocol assignments
    '192.0.2.0/24', // TEST-NET-1
    '192.88.99.0/24', // deprecated 6to4 relay anycast
    '192.168.0.0/16', // RFC 1918
    '198.18.0.0/15', // benchmarking
    '198.51.100.0/24', // TEST-NET-2
    '203.0.113.0/24', // TEST-NET-3
    '224.0.0.0/4', // multicast
    '240.0.0.0/4', // reserved + limited broadcast
  ].map(parseCidr),
);

/** Sorts and coalesces overlapping or adjacent ranges. */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: Range[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last && range.start <= last.end + 1) {
      merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, range.end) };
    } else {
      merged.push(range);
    }
  }
  return merged;
}

/** Removes `holes` from `ranges`; both must be sorted and merged. */
export function subtractRanges(ranges: readonly Range[], holes: readonly Range[]): Range[] {
  const result: Range[] = [];
  let h = 0;
  for (const range of ranges) {
    let start = range.start;
    // Holes are sorted, so any hole ending before this range is irrelevant from now on.
    while (h < holes.length && (holes[h]?.end ?? Infinity) < start) h++;
    for (let i = h; i < holes.length; i++) {
      const hole = holes[i];
      if (!hole || hole.start > range.end) break;
      if (hole.start > start) result.push({ start, end: hole.start - 1 });
      start = Math.max(start, hole.end + 1);
    }
    if (start <= range.end) result.push({ start, end: range.end });
  }
  return result;
}
