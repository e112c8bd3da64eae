import type { IcmpMessage } from './icmp-packets.js';

/** One answer to one probe. */
export interface ProbeReply {
  from: string;
  /** Round-trip time in microseconds, from a monotonic clock. */
  rttUs: number;
  /** The ICMP type and code of the answer (a TCP answer has neither). */
  icmpType?: number;
  icmpCode?: number;
  /** The IP TTL of the answer as it arrived. */
  replyTtl?: number;
  mpls?: IcmpMessage['mpls'];
  /** TCP probes: how the destination answered. */
  tcpFlags?: 'syn-ack' | 'rst';
}

export const replyFromIcmp = (msg: IcmpMessage, rttUs: number): ProbeReply => ({
  from: msg.from,
  rttUs,
  icmpType: msg.type,
  icmpCode: msg.code,
  replyTtl: msg.replyTtl,
  ...(msg.mpls ? { mpls: msg.mpls } : {}),
});

export const microseconds = (from: bigint, to: bigint): number => Number(to - from) / 1_000;
