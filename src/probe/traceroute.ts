import type { ProbeReply } from './probe-reply.js';
import { ICMP_DEST_UNREACHABLE, ICMP_ECHO_REPLY } from './icmp-packets.js';

export const TRACE_METHODS = ['icmp-paris', 'udp-paris', 'tcp-syn'] as const;
export type TraceMethod = (typeof TRACE_METHODS)[number];

export interface TraceHop {
  ttl: number;
  /** One entry per probe: the answer, or null for `*`. */
  probes: Array<ProbeReply | null>;
}

export interface TraceResult {
  dst: string;
  method: TraceMethod;
  /** The flow identifier kept constant across TTLs: the ICMP checksum or the source port. */
  flow: number;
  hops: TraceHop[];
  reached: boolean;
  stop: 'reached' | 'gap' | 'max-hops' | 'unreachable';
  probesSent: number;
}

export interface TraceOptions {
  maxHops?: number;
  probesPerHop?: number;
  /** Stop after this many consecutive hops where no probe was answered. */
  gapLimit?: number;
  firstTtl?: number;
}

/** Sends probe `index` of hop `ttl` on the trace's one flow. */
export type SendProbe = (ttl: number, index: number) => Promise<ProbeReply | undefined>;

/** Did this answer come from the destination itself? */
export function fromDestination(dst: string, r: ProbeReply): boolean {
  if (r.from !== dst) return false;
  return r.icmpType === ICMP_ECHO_REPLY || r.icmpType === ICMP_DEST_UNREACHABLE || r.tcpFlags !== undefined;
}

/**
 * Hop-by-hop traceroute on one flow: for each TTL, `probesPerHop` probes at once, until the destination
 * answers, a router says it is unreachable, `gapLimit` hops in a row stay silent, or `maxHops`.
 */
export async function traceFlow(dst: string, method: TraceMethod, flow: number, send: SendProbe, opts: TraceOptions = {}): Promise<TraceResult> {
  const maxHops = opts.maxHops ?? 30;
  const perHop = opts.probesPerHop ?? 3;
  const gapLimit = opts.gapLimit ?? 5;
  const result: TraceResult = { dst, method, flow, hops: [], reached: false, stop: 'max-hops', probesSent: 0 };
  let silent = 0;
  for (let ttl = opts.firstTtl ?? 1; ttl <= maxHops; ttl++) {
    const replies = await Promise.all(Array.from({ length: perHop }, (_, i) => send(ttl, i)));
    result.probesSent += perHop;
    const probes = replies.map((r) => r ?? null);
    result.hops.push({ ttl, probes });
    const answered = probes.filter((p): p is ProbeReply => p !== null);
    silent = answered.length === 0 ? silent + 1 : 0;
    if (answered.some((r) => fromDestination(dst, r))) {
      result.reached = true;
      result.stop = 'reached';
      break;
    }
    if (answered.some((r) => r.icmpType === ICMP_DEST_UNREACHABLE)) {
      result.stop = 'unreachable';
      break;
    }
    if (silent >= gapLimit) {
      result.stop = 'gap';
      break;
    }
  }
  return result;
}
