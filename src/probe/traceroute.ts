import type { ProbeReply } from './probe-reply.js';
import { gated, type ResponderGate } from './responder-budget.js';
import type { StopSet } from './stop-set.js';
import { ICMP_DEST_UNREACHABLE, ICMP_ECHO_REPLY } from './icmp-packets.js';

export const TRACE_METHODS = ['icmp-paris', 'udp-paris', 'tcp-syn'] as const;
export type TraceMethod = (typeof TRACE_METHODS)[number];

export interface TraceHop {
  ttl: number;
  /** One entry per probe: the answer, or null for `*`. */
  probes: Array<ProbeReply | null>;
}

export interface TraceResult {
  /** Probes not sent because the stop set already knew those hops (Doubletree). */
  probesSaved?: number;
  dst: string;
  method: TraceMethod;
  /** The flow identifier kept constant across TTLs: the ICMP checksum or the source port. */
  flow: number;
  hops: TraceHop[];
  reached: boolean;
  stop: 'reached' | 'gap' | 'max-hops' | 'unreachable' | 'stop-set';
  probesSent: number;
}

export interface TraceOptions {
  maxHops?: number;
  /** Attempts at a hop: one probe, and the rest only when it goes unanswered (as scamper's `-q`). */
  probesPerHop?: number;
  /** Stop after this many consecutive hops where no probe was answered. */
  gapLimit?: number;
  firstTtl?: number;
  /** The worker's per-responder ICMP budgets (responder-budget.ts); without, probes go out as they come. */
  responders?: ResponderGate;
}

/** Doubletree: start in the middle of the path, go forward and then backward, and stop where the stop set says the rest is known. */
export interface DoubletreeOptions {
  stopSet: StopSet;
  /** The TTL probing starts at (h in the paper); hops at or below it count as near the worker. */
  startTtl: number;
}

/** Sends probe `index` of hop `ttl` on the trace's one flow. */
export type SendProbe = (ttl: number, index: number) => Promise<ProbeReply | undefined>;

/** Did this answer come from the destination itself? */
export function fromDestination(dst: string, r: ProbeReply): boolean {
  if (r.from !== dst) return false;
  return r.icmpType === ICMP_ECHO_REPLY || r.icmpType === ICMP_DEST_UNREACHABLE || r.tcpFlags !== undefined;
}

const firstAnswer = (probes: Array<ProbeReply | null>) => probes.find((p): p is ProbeReply => p !== null)?.from ?? null;

/**
 * Probes one hop: a single probe, and when that goes unanswered the remaining attempts together. An answer
 * is what the hop is probed for; further probes to a router that answered would only cost its ICMP budget.
 */
async function probeHop(ttl: number, send: SendProbe, attempts: number): Promise<Array<ProbeReply | null>> {
  const first = (await send(ttl, 0)) ?? null;
  if (first || attempts <= 1) return [first];
  const rest = await Promise.all(Array.from({ length: attempts - 1 }, (_, i) => send(ttl, i + 1)));
  return [first, ...rest.map((r) => r ?? null)];
}

/**
 * Hop-by-hop traceroute on one flow: for each TTL, one probe (up to `probesPerHop` where it is silent), until the destination
 * answers, a router says it is unreachable, `gapLimit` hops in a row stay silent, or `maxHops`.
 */
export async function traceFlow(
  dst: string,
  method: TraceMethod,
  flow: number,
  send: SendProbe,
  opts: TraceOptions & { stopWhen?: (hop: TraceHop) => boolean } = {},
): Promise<TraceResult> {
  const maxHops = opts.maxHops ?? 30;
  const perHop = opts.probesPerHop ?? 3;
  const gapLimit = opts.gapLimit ?? 5;
  const result: TraceResult = { dst, method, flow, hops: [], reached: false, stop: 'max-hops', probesSent: 0 };
  let silent = 0;
  // The hop before's answer: whoever may answer next is one of its successors.
  let prev: string | null = null;
  const sendPaced = gated(opts.responders, send, () => prev);
  for (let ttl = opts.firstTtl ?? 1; ttl <= maxHops; ttl++) {
    const probes = await probeHop(ttl, sendPaced, perHop);
    // Silent where the hop before leads on to routers that answer: one may have been out of ICMP credit rather
    // than absent. Come back once when it is due rather than write the hop off.
    if (!probes.some((p) => p !== null) && opts.responders && (await opts.responders.retryWait(prev))) {
      const again = (await sendPaced(ttl, probes.length)) ?? null;
      opts.responders.retried(prev, again?.from ?? null);
      probes.push(again);
    }
    result.probesSent += probes.length;
    result.hops.push({ ttl, probes });
    prev = firstAnswer(probes);
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
    if (opts.stopWhen?.({ ttl, probes })) {
      result.stop = 'stop-set';
      break;
    }
  }
  return result;
}

/**
 * Doubletree traceroute on one flow: forward from `startTtl` until the destination answers (or a gap, or
 * the stop set knows the rest of the path into the destination's network), then backward from
 * `startTtl - 1` until an interface the worker already knows is near it. Hops skipped are counted in
 * `probesSaved`; the result lists the hops probed, in TTL order.
 */
export async function traceDoubletree(
  dst: string,
  method: TraceMethod,
  flow: number,
  send: SendProbe,
  opts: TraceOptions & DoubletreeOptions,
): Promise<TraceResult> {
  const perHop = opts.probesPerHop ?? 3;
  const { stopSet } = opts;
  const start = Math.max(1, Math.min(opts.startTtl, opts.maxHops ?? 30));
  // A destination (or network) whose full trace is due is traced as if nothing were known: the whole path re-observed.
  const scheduledFull = stopSet.fullTraceDue(dst);
  if (scheduledFull) stopSet.stats.scheduled_full_traces++;
  let savedForward = 0;
  let stoppedAt: string | undefined;
  const forward = await traceFlow(dst, method, flow, send, {
    ...opts,
    firstTtl: start,
    stopWhen: (hop) => {
      const iface = firstAnswer(hop.probes);
      if (!iface || iface === dst || scheduledFull) return false;
      const remaining = stopSet.remainingAfter(iface, dst);
      if (remaining === undefined) {
        // Another interface where this flow's last trace had its own: the route moved, what lay behind is unknown.
        stopSet.invalidateIfMoved(hop.ttl, iface, dst, flow);
        return false;
      }
      // An answered hop costs one probe.
      savedForward = remaining;
      stoppedAt = iface;
      return true;
    },
  });
  const hops = [...forward.hops];
  let savedBackward = 0;
  let stoppedNearWorkerAt: string | undefined;
  // Backward, the hop before is not known yet: nothing to pace by, but the answers still teach the budget.
  send = gated(opts.responders, send, () => null);
  let probesSent = forward.probesSent;
  for (let ttl = start - 1; ttl >= 1; ttl--) {
    const probes = await probeHop(ttl, send, perHop);
    probesSent += probes.length;
    hops.unshift({ ttl, probes });
    const iface = firstAnswer(probes);
    if (iface && !scheduledFull && stopSet.knownNearWorker(iface)) {
      savedBackward = ttl - 1;
      stoppedNearWorkerAt = iface;
      break;
    }
  }
  if (stoppedAt !== undefined) stopSet.stats.stopped++;
  stopSet.learn(dst, {
    flow,
    hops: hops.map((h) => ({ ttl: h.ttl, from: firstAnswer(h.probes) })),
    localHorizon: start,
    stoppedAt,
    stoppedNearWorkerAt,
    full: stoppedAt === undefined && stoppedNearWorkerAt === undefined,
  });
  const probesSaved = savedForward + savedBackward;
  stopSet.saved += probesSaved;
  return { ...forward, hops, probesSent, probesSaved };
}
