/**
 * IPv4 options for alias resolution (RFC 791): record route (type 7) and internet timestamp (type 68) with
 * prespecified addresses (flag 3). Built for the IP_OPTIONS socket option; parsed from the header of a
 * received packet and from the header an ICMP error quotes.
 */
export const IPOPT_END = 0;
export const IPOPT_NOP = 1;
export const IPOPT_RR = 7;
export const IPOPT_TS = 68;
export const IPOPT_TS_PRESPEC = 3;

/** The most addresses a record-route option can hold: 3 + 9 * 4 = 39 of the 40 bytes of options. */
export const RR_MAX_SLOTS = 9;
/** Prespecified timestamp entries that fit: 4 + 4 * 8 = 36 bytes. */
export const TS_MAX_ENTRIES = 4;

const ipv4 = (buf: Buffer, at: number) => `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
const writeIpv4 = (buf: Buffer, at: number, address: string) => {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new Error(`not an IPv4 address: ${address}`);
  parts.forEach((p, i) => (buf[at + i] = p));
};

/**
 * A record-route option with every slot empty, behind one NOP so the 39-byte option fills the 40 bytes
 * whole (as ping -R sends it). Linux stamps the sender's own address into the first slot when it sends.
 */
export function buildRecordRoute(slots = RR_MAX_SLOTS): Buffer {
  if (slots < 1 || slots > RR_MAX_SLOTS) throw new Error(`record route holds 1 to ${RR_MAX_SLOTS} addresses`);
  const length = 3 + 4 * slots;
  const buf = Buffer.alloc(Math.ceil((length + 1) / 4) * 4, IPOPT_END);
  buf[0] = IPOPT_NOP;
  buf[1] = IPOPT_RR;
  buf[2] = length;
  buf[3] = 4;
  return buf;
}

/** A timestamp option asking each of `addresses`, in order, to stamp when the packet reaches it. */
export function buildPrespecifiedTimestamp(addresses: string[]): Buffer {
  if (addresses.length < 1 || addresses.length > TS_MAX_ENTRIES)
    throw new Error(`prespecified timestamps take 1 to ${TS_MAX_ENTRIES} addresses`);
  const buf = Buffer.alloc(4 + 8 * addresses.length);
  buf[0] = IPOPT_TS;
  buf[1] = buf.length;
  buf[2] = 5;
  buf[3] = IPOPT_TS_PRESPEC;
  addresses.forEach((a, i) => writeIpv4(buf, 4 + 8 * i, a));
  return buf;
}

export interface IpOptions {
  /** Record route: the addresses stamped so far (the slots before the pointer). */
  recordRoute?: string[];
  /** Timestamps with prespecified addresses: each entry and whether its router stamped it. */
  timestamps?: Array<{ address: string; stamped: boolean; time: number }>;
}

/** Parses the options area of an IPv4 header (the bytes after the first 20); ignores what it does not know. */
export function parseIpOptions(opts: Buffer): IpOptions {
  const out: IpOptions = {};
  let at = 0;
  while (at < opts.length) {
    const type = opts[at]!;
    if (type === IPOPT_END) break;
    if (type === IPOPT_NOP) {
      at++;
      continue;
    }
    const length = opts[at + 1];
    if (length === undefined || length < 2 || at + length > opts.length) break;
    const option = opts.subarray(at, at + length);
    if (type === IPOPT_RR && length >= 3) {
      const filled = Math.max(0, Math.min(Math.floor((option[2]! - 4) / 4), Math.floor((length - 3) / 4)));
      out.recordRoute = Array.from({ length: filled }, (_, i) => ipv4(option, 3 + 4 * i));
    }
    if (type === IPOPT_TS && length >= 4 && (option[3]! & 0x0f) === IPOPT_TS_PRESPEC) {
      const pointer = option[2]!;
      const entries = Math.floor((length - 4) / 8);
      out.timestamps = Array.from({ length: entries }, (_, i) => ({
        address: ipv4(option, 4 + 8 * i),
        // The pointer is the 1-based offset of the next entry to stamp: 5, then 13, 21...
        stamped: pointer >= 13 + 8 * i,
        time: option.readUInt32BE(8 + 8 * i),
      }));
    }
    at += length;
  }
  return out;
}

/** The options of a received IPv4 packet (raw sockets deliver the IP header). */
export function receivedOptions(packet: Buffer): IpOptions {
  if (packet.length < 20) return {};
  const ihl = (packet[0]! & 0x0f) * 4;
  return parseIpOptions(packet.subarray(20, Math.min(ihl, packet.length)));
}

/** The options of the header an ICMP error quotes (our probe as the router saw it), or {} if it quotes none. */
export function quotedOptions(packet: Buffer): IpOptions {
  if (packet.length < 20) return {};
  const ihl = (packet[0]! & 0x0f) * 4;
  const q = ihl + 8;
  if (packet.length < q + 20 || packet[q]! >> 4 !== 4) return {};
  const qihl = (packet[q]! & 0x0f) * 4;
  return parseIpOptions(packet.subarray(q + 20, Math.min(q + qihl, packet.length)));
}

/** The IP identification field of a received packet: Ally compares these counters. */
export const ipIdOf = (packet: Buffer): number => packet.readUInt16BE(4);
