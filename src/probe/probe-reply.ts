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

/**
 * A probe that never left: the kernel refused the send (no route, an address of a family the socket cannot
 * reach). Not an unanswered probe: a measurement made of it must say so rather than count it as sent.
 */
export class ProbeSendError extends Error {
  override name = 'ProbeSendError';
  constructor(
    readonly dst: string,
    readonly reason: string,
  ) {
    super(`no probe to ${dst} could be sent: ${reason}`);
  }
}

/** The kernel's error as a short reason: its code and message. */
export const sendFailure = (err: unknown): string => {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code} (${e.message})` : e instanceof Error ? e.message : String(err);
};
