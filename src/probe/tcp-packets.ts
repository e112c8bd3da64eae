import { internetChecksum, onesComplementSum } from './internet-checksum.js';

const octets = (ip: string) => Buffer.from(ip.split('.').map(Number));

/** A bare TCP SYN (20-byte header, MSS option) with its checksum over the IPv4 pseudo-header. */
export function buildTcpSyn(opts: { src: string; dst: string; srcPort: number; dstPort: number; seq: number }): Buffer {
  const tcp = Buffer.alloc(24);
  tcp.writeUInt16BE(opts.srcPort, 0);
  tcp.writeUInt16BE(opts.dstPort, 2);
  tcp.writeUInt32BE(opts.seq >>> 0, 4);
  tcp[12] = 6 << 4; // data offset: 6 words
  tcp[13] = 0x02; // SYN
  tcp.writeUInt16BE(64240, 14);
  tcp.set([2, 4, 0x05, 0xb4], 20); // MSS 1460
  const pseudo = Buffer.concat([octets(opts.src), octets(opts.dst), Buffer.from([0, 6, 0, tcp.length])]);
  const sum = onesComplementSum(tcp, 0, tcp.length, onesComplementSum(pseudo));
  tcp.writeUInt16BE(~sum & 0xffff, 16);
  return tcp;
}

export interface TcpSegment {
  src: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  syn: boolean;
  rst: boolean;
  ackFlag: boolean;
  ttl: number;
}

/** Parses a segment as a raw IPv4 TCP socket receives it (IP header included). */
export function parseTcpSegment(buf: Buffer): TcpSegment | undefined {
  if (buf.length < 40 || buf[0]! >> 4 !== 4 || buf[9] !== 6) return undefined;
  const ihl = (buf[0]! & 0x0f) * 4;
  if (buf.length < ihl + 20) return undefined;
  const flags = buf[ihl + 13]!;
  return {
    src: `${buf[12]}.${buf[13]}.${buf[14]}.${buf[15]}`,
    srcPort: buf.readUInt16BE(ihl),
    dstPort: buf.readUInt16BE(ihl + 2),
    seq: buf.readUInt32BE(ihl + 4),
    ack: buf.readUInt32BE(ihl + 8),
    syn: (flags & 0x02) !== 0,
    rst: (flags & 0x04) !== 0,
    ackFlag: (flags & 0x10) !== 0,
    ttl: buf[8]!,
  };
}

export const tcpChecksumValid = (segment: Buffer, src: string, dst: string): boolean =>
  internetChecksum(
    Buffer.concat([octets(src), octets(dst), Buffer.from([0, 6, segment.length >> 8, segment.length & 0xff]), segment]),
  ) === 0;
