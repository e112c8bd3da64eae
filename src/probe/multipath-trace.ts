import type { ProbeReply } from './probe-reply.js';
import { ICMP_DEST_UNREACHABLE } from './icmp-packets.js';
import { fillHoles } from './mda-holes.js';
import { exploreHop, MdaState } from './mda-hop.js';
import type { ResponderGate } from './responder-budget.js';
import { fromDestination, type TraceMethod } from './traceroute.js';

export interface MultipathHop {
  ttl: number;
  /** Interfaces that answered at this TTL, in the order first seen. */
  interfaces: string[];
  /** Flows probed at this TTL and how many of them went unanswered. */
  flows: number;
  silent: number;
  /** Per interface: the RTTs (µs) of the answers from it. */
  rttUs: Record<string, number[]>;
}

export interface MultipathResult {
  dst: string;
  method: TraceMethod;
  confidence: number;
  hops: MultipathHop[];
  /** Interface pairs seen on one flow at consecutive TTLs: the links of the load-balanced paths. */
  links: Array<[string, string]>;
  reached: boolean;
  probesSent: number;
}

/** Sends one probe on flow `flow` (a small integer the caller maps to a flow identifier) with `ttl`. */
export type SendFlowProbe = (flow: number, ttl: number) => Promise<ProbeReply | undefined>;

export interface MultipathOptions {
  confidence?: number;
  maxHops?: number;
  gapLimit?: number;
  /** The most new flows tried for one TTL (scamper's tracelb caps similarly). */
  maxFlows?: number;
  /** The worker's per-responder ICMP budgets (responder-budget.ts); without, probes go out as they come. */
  responders?: ResponderGate;
}

/** Rounds of sending again what a rate-limited router left unanswered at one TTL. */
const RETRY_ROUNDS = 2;

/**
 * MDA (Augustin et al.; Veitch et al.'s stopping rule), hop by hop, sending a probe only where the rule asks
 * for one (mda-hop.ts): each interface of the previous hop gets enough flows through it to rule out one more
 * successor, reusing the flows already known to cross it before drawing new ones. A link is claimed only
 * from one flow answered at both of its TTLs; a hop no flow answered breaks the links through it.
 */
export async function traceMultipath(
  dst: string,
  method: TraceMethod,
  send: SendFlowProbe,
  opts: MultipathOptions = {},
): Promise<MultipathResult> {
  const confidence = opts.confidence ?? 0.95;
  const maxHops = opts.maxHops ?? 30;
  const gapLimit = opts.gapLimit ?? 5;
  const state = new MdaState(dst, send, confidence, opts.maxFlows ?? 128, opts.responders);
  let reached = false;
  let silentHops = 0;
  for (let ttl = 1; ttl <= maxHops; ttl++) {
    // A hop a rate-limited router left partly silent is probed again when due, and explored again with what
    // the answers showed: come back to it rather than write it off.
    for (let round = 0; ; round++) {
      await exploreHop(state, ttl);
      if (round >= RETRY_ROUNDS || !(await state.retryUnanswered(ttl))) break;
    }
    const replies = [...state.at(ttl).values()].filter((r): r is ProbeReply => r !== null);
    if (replies.length > 0 && replies.every((r) => fromDestination(dst, r))) {
      reached = true;
      break;
    }
    if (replies.some((r) => r.icmpType === ICMP_DEST_UNREACHABLE && r.from !== dst)) break;
    silentHops = replies.length === 0 ? silentHops + 1 : 0;
    if (silentHops >= gapLimit) break;
  }
  await fillHoles(state);
  return { dst, method, confidence, hops: state.hops(), links: state.links(), reached, probesSent: state.probesSent };
}
