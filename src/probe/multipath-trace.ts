import type { ProbeReply } from './probe-reply.js';
import { stoppingPoint } from './mda-stopping-points.js';
import { ICMP_DEST_UNREACHABLE } from './icmp-packets.js';
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
  /** The most flows tried at one TTL (scamper's tracelb caps similarly). */
  maxFlows?: number;
}

/**
 * MDA-lite: at each TTL, every flow that answered at the previous TTL is probed again (so the link each
 * flow took is known), then new flows are added until the stopping point for the number of interfaces
 * seen is reached. A hop that no flow answered breaks the links through it; there are no links across it.
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
  const maxFlows = opts.maxFlows ?? 128;
  const result: MultipathResult = { dst, method, confidence, hops: [], links: [], reached: false, probesSent: 0 };
  const linkKeys = new Set<string>();
  let previous = new Map<number, string | null>();
  let nextFlow = 1;
  let silentHops = 0;

  for (let ttl = 1; ttl <= maxHops; ttl++) {
    const answers = new Map<number, ProbeReply | null>();
    const probe = async (flows: number[]) => {
      const replies = await Promise.all(flows.map((f) => send(f, ttl)));
      result.probesSent += flows.length;
      flows.forEach((f, i) => answers.set(f, replies[i] ?? null));
    };
    await probe([...previous.keys()].length > 0 ? [...previous.keys()] : []);
    for (;;) {
      const seen = new Set([...answers.values()].filter((r): r is ProbeReply => r !== null).map((r) => r.from));
      const want = Math.min(maxFlows, stoppingPoint(Math.max(1, seen.size), confidence));
      if (answers.size >= want) break;
      const fresh = Array.from({ length: want - answers.size }, () => nextFlow++);
      await probe(fresh);
    }
    // Node control: each interface of the previous hop needs enough flows of its own through it to rule out
    // one more successor, else a balancer behind a rarely taken branch keeps a successor hidden. New flows
    // are found by probing fresh ones at the previous TTL until they land on the interface that lacks them.
    const before = result.hops.at(-1);
    for (let tries = 0; before && tries < maxFlows;) {
      const short = shortVertices(previous, answers, confidence);
      if (short.size === 0) break;
      const fresh = Array.from({ length: Math.min(16, maxFlows - tries) }, () => nextFlow++);
      tries += fresh.length;
      const landed = await Promise.all(fresh.map((f) => send(f, ttl - 1)));
      result.probesSent += fresh.length;
      const useful: number[] = [];
      fresh.forEach((f, i) => {
        const r = landed[i];
        previous.set(f, r?.from ?? null);
        if (!r) return;
        if (!before.rttUs[r.from]) {
          before.interfaces.push(r.from);
          before.rttUs[r.from] = [];
        }
        before.rttUs[r.from]!.push(r.rttUs);
        if (short.has(r.from)) useful.push(f);
      });
      await probe(useful);
    }

    const hop: MultipathHop = { ttl, interfaces: [], flows: answers.size, silent: 0, rttUs: {} };
    const current = new Map<number, string | null>();
    for (const [flow, reply] of answers) {
      current.set(flow, reply?.from ?? null);
      if (!reply) {
        hop.silent++;
        continue;
      }
      if (!hop.rttUs[reply.from]) {
        hop.interfaces.push(reply.from);
        hop.rttUs[reply.from] = [];
      }
      hop.rttUs[reply.from]!.push(reply.rttUs);
      const before = previous.get(flow);
      // A flow that reached the destination early answers from it again one TTL on: that is no link.
      if (before && before !== reply.from && !linkKeys.has(`${before}>${reply.from}`)) {
        linkKeys.add(`${before}>${reply.from}`);
        result.links.push([before, reply.from]);
      }
    }
    result.hops.push(hop);
    previous = current;

    const replies = [...answers.values()].filter((r): r is ProbeReply => r !== null);
    if (replies.length > 0 && replies.every((r) => fromDestination(dst, r))) {
      result.reached = true;
      break;
    }
    if (replies.some((r) => r.icmpType === ICMP_DEST_UNREACHABLE && r.from !== dst)) break;
    silentHops = replies.length === 0 ? silentHops + 1 : 0;
    if (silentHops >= gapLimit) break;
  }
  return result;
}

/** Interfaces of the previous hop with fewer flows probed through them than their successors call for. */
function shortVertices(
  previous: Map<number, string | null>,
  answers: Map<number, ProbeReply | null>,
  confidence: number,
): Set<string> {
  const through = new Map<string, { flows: number; next: Set<string> }>();
  for (const [flow, reply] of answers) {
    const v = previous.get(flow);
    if (!v) continue;
    const entry = through.get(v) ?? through.set(v, { flows: 0, next: new Set() }).get(v)!;
    entry.flows++;
    if (reply) entry.next.add(reply.from);
  }
  const short = new Set<string>();
  for (const [v, { flows, next }] of through)
    if (flows < stoppingPoint(Math.max(1, next.size), confidence)) short.add(v);
  return short;
}
