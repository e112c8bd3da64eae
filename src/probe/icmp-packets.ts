import { internetChecksum, onesComplementSum } from './internet-checksum.js';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;

/**
 * An ICMP echo request whose checksum is `checksum` whatever its sequence number: the last two payload
 * bytes absorb the difference. Paris traceroute keeps the checksum constant because per-flow load balancers
 * hash the first words of the ICMP header (type, code, checksum) as the flow identifier.
 */
export function buildEchoRequest(opts: { id: number; seq: number; payloadSize?: number; checksum?: number }): Buffer {
  const size = Math.max(opts.payloadSize ?? 16, 2);
  const buf = Buffer.alloc(8 + size);
  buf[0] = ICMP_ECHO_REQUEST;
  buf.writeUInt16BE(opts.id & 0xffff, 4);
  buf.writeUInt16BE(opts.seq & 0xffff, 6);
  buf.write('hopmap', 8, 'latin1');
  if (opts.checksum === undefined) {
    buf.writeUInt16BE(internetChecksum(buf), 2);
    return buf;
  }
  // Choose the filler word so the packet's checksum comes out as wanted: sum(all words) must be ~checksum.
  const want = ~opts.checksum & 0xffff;
  const sumWithoutFiller = onesComplementSum(buf, 0, buf.length - 2);
  let filler = want - sumWithoutFiller;
  if (filler < 0) filler += 0xffff;
  buf.writeUInt16BE(filler & 0xffff, buf.length - 2);
  buf.writeUInt16BE(opts.checksum, 2);
  return buf;
}

export interface IcmpMessage {
  /** Who sent the ICMP message (the target for echo replies, a router for errors). */
  from: string;
  /** The reply's own IP TTL, which hints at how far away its sender is. */
  replyTtl: number;
  type: number;
  code: number;
  /** For echo replies: the echo's identifier and sequence. */
  echo?: { id: number; seq: number };
  /** For errors: what the router quoted of our probe. */
  quoted?: QuotedProbe;
  /** MPLS label stack entries from an RFC 4950 extension, when present. */
  mpls?: Array<{ label: number; exp: number; bottom: boolean; ttl: number }>;
}

export interface QuotedProbe {
  dst: string;
  protocol: number;
  ipId: number;
  /** The TTL the probe had left when it expired (usually 1). */
  ttl: number;
  /** ICMP echo probes: id and sequence; UDP/TCP probes: ports; TCP: sequence number; UDP: checksum. */
  icmp?: { id: number; seq: number; checksum: number };
  ports?: { src: number; dst: number };
  tcpSeq?: number;
  udpChecksum?: number;
  udpLength?: number;
}

const ipv4 = (buf: Buffer, at: number) => `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;

/** Parses what a raw IPv4 ICMP socket receives: the IP header followed by the ICMP message. */
export function parseIcmpPacket(buf: Buffer): IcmpMessage | undefined {
  if (buf.length < 28 || buf[0]! >> 4 !== 4) return undefined;
  const ihl = (buf[0]! & 0x0f) * 4;
  if (buf[9] !== 1 || buf.length < ihl + 8) return undefined;
  const msg: IcmpMessage = { from: ipv4(buf, 12), replyTtl: buf[8]!, type: buf[ihl]!, code: buf[ihl + 1]! };
  if (msg.type === ICMP_ECHO_REPLY) {
    msg.echo = { id: buf.readUInt16BE(ihl + 4), seq: buf.readUInt16BE(ihl + 6) };
    return msg;
  }
  if (msg.type !== ICMP_TIME_EXCEEDED && msg.type !== ICMP_DEST_UNREACHABLE) return msg;
  const q = ihl + 8;
  if (buf.length < q + 20 || buf[q]! >> 4 !== 4) return msg;
  const qihl = (buf[q]! & 0x0f) * 4;
  const t = q + qihl;
  const quoted: QuotedProbe = {
    dst: ipv4(buf, q + 16),
    protocol: buf[q + 9]!,
    ipId: buf.readUInt16BE(q + 4),
    ttl: buf[q + 8]!,
  };
  if (buf.length >= t + 8) {
    if (quoted.protocol === 1)
      quoted.icmp = { checksum: buf.readUInt16BE(t + 2), id: buf.readUInt16BE(t + 4), seq: buf.readUInt16BE(t + 6) };
    if (quoted.protocol === 6 || quoted.protocol === 17)
      quoted.ports = { src: buf.readUInt16BE(t), dst: buf.readUInt16BE(t + 2) };
    if (quoted.protocol === 6) quoted.tcpSeq = buf.readUInt32BE(t + 4);
    if (quoted.protocol === 17) {
      quoted.udpLength = buf.readUInt16BE(t + 4);
      quoted.udpChecksum = buf.readUInt16BE(t + 6);
    }
  }
  msg.quoted = quoted;
  msg.mpls = parseMplsExtension(buf, ihl);
  return msg;
}

/**
 * RFC 4884/4950: an ICMP error may carry an extension structure after the first 128 bytes of the quoted
 * datagram (its length in 32-bit words is in byte 5 of the ICMP header); object class 1 is the MPLS stack.
 */
function parseMplsExtension(buf: Buffer, ihl: number): IcmpMessage['mpls'] {
  const lengthWords = buf[ihl + 5]!;
  const start = ihl + 8 + (lengthWords > 0 ? lengthWords * 4 : 128);
  if (buf.length < start + 8 || buf[start]! >> 4 !== 2) return undefined;
  const labels: NonNullable<IcmpMessage['mpls']> = [];
  let at = start + 4;
  while (at + 4 <= buf.length) {
    const objLength = buf.readUInt16BE(at);
    const classNum = buf[at + 2]!;
    if (objLength < 4 || at + objLength > buf.length) break;
    if (classNum === 1) {
      for (let e = at + 4; e + 4 <= at + objLength; e += 4) {
        const word = buf.readUInt32BE(e);
        labels.push({ label: word >>> 12, exp: (word >>> 9) & 7, bottom: ((word >>> 8) & 1) === 1, ttl: word & 0xff });
      }
    }
    at += objLength;
  }
  return labels.length > 0 ? labels : undefined;
}
