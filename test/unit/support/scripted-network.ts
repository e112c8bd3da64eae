import type { ProbeReply } from '../../../src/probe/probe-reply.js';
import type { SendFlowProbe } from '../../../src/probe/multipath-trace.js';
import type { SendProbe, TraceMethod } from '../../../src/probe/traceroute.js';

/**
 * A network as data, for the probe algorithms' injectable `send`: routers by address, each with its
 * next hops. A router with several next hops balances per flow (a hash of flow and router, as a real
 * per-flow balancer does), so one flow always takes one path and different flows spread over the branches.
 */
export interface ScriptedNetwork {
  /** The first router (TTL 1). */
  first: string;
  dst: string;
  routers: Record<string, ScriptedRouter>;
  /** How the destination answers a probe that reaches it (default: as the method's destination would). */
  destination?: 'answers' | 'silent' | 'rst';
  /** Salt of the per-flow hash: another salt is another, equally valid, assignment of flows to branches. */
  salt?: number;
}

export interface ScriptedRouter {
  /** Next hops; the last router's next hop is the destination. Several: per-flow load balancing. */
  next: string[];
  /** Which probes expiring here get a time exceeded (default: all). */
  answers?: AnswerPolicy;
  /** With no next hop: answers probes that would go further with this unreachable code (1 host, 13 prohibited). */
  unreachable?: number;
}

/**
 * `every`: only one probe in n (Linux's `icmp_ratelimit` seen from one flow); `burst`: the first `burst`
 * probes, then one in `thenEvery` (a token bucket that has run dry); `silent`: never (a router with ICMP off).
 */
export type AnswerPolicy =
  | { kind: 'all' }
  | { kind: 'silent' }
  | { kind: 'every'; n: number }
  | { kind: 'burst'; burst: number; thenEvery: number }
  | { kind: 'bucket'; burst: number; everyMs: number };

export const silent: AnswerPolicy = { kind: 'silent' };
export const every = (n: number): AnswerPolicy => ({ kind: 'every', n });
export const burst = (b: number, thenEvery: number): AnswerPolicy => ({ kind: 'burst', burst: b, thenEvery });
/**
 * A token bucket in time (the sender's clock): `burst` answers, then one per `everyMs`. Linux's default for
 * time exceeded is bucket(6, 1000) per destination; a router's `ip icmp rate-limit unreachable 500` is
 * bucket(1, 500).
 */
export const bucket = (b: number, everyMs: number): AnswerPolicy => ({ kind: 'bucket', burst: b, everyMs });

const ICMP_ECHO_REPLY = 0;
const ICMP_DEST_UNREACHABLE = 3;
const ICMP_TIME_EXCEEDED = 11;
const PORT_UNREACHABLE = 3;

/** A per-flow balancer's choice among `n` next hops (murmur3's finaliser: uniform, and fixed per flow). */
export function pickBranch(flow: number, router: string, n: number, salt = 0): number {
  let h = (flow * 0x9e3779b1) ^ salt;
  for (let i = 0; i < router.length; i++) h = Math.imul(h ^ router.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % n;
}

/** The routers flow `flow` crosses, in TTL order, then the destination. */
export function pathOf(net: ScriptedNetwork, flow: number): string[] {
  const path: string[] = [];
  for (let at = net.first; ;) {
    path.push(at);
    if (at === net.dst) return path;
    const r = net.routers[at];
    if (!r) throw new Error(`scripted network: no router ${at}`);
    if (r.next.length === 0 || path.length > 64) return path;
    at = r.next.length === 1 ? r.next[0]! : r.next[pickBranch(flow, at, r.next.length, net.salt)]!;
  }
}

/** Every link of the network (router → next hop), as `a>b`. */
export function trueLinks(net: ScriptedNetwork): Set<string> {
  const links = new Set<string>();
  for (const [a, r] of Object.entries(net.routers)) for (const b of r.next) links.add(`${a}>${b}`);
  return links;
}

/** Every interface at TTL `ttl` on some path (for diamonds: the branches MDA should find). */
export function interfacesAt(net: ScriptedNetwork, ttl: number, flows = 4096): Set<string> {
  const found = new Set<string>();
  for (let f = 1; f <= flows; f++) {
    const p = pathOf(net, f);
    if (p[ttl - 1] !== undefined) found.add(p[ttl - 1]!);
  }
  return found;
}

/** The network's answers, and what was asked of it. */
export class ScriptedSender {
  /** Probes that reached each router or the destination (answered or not). */
  readonly arrived = new Map<string, number>();
  readonly sent: Array<{ flow: number; ttl: number }> = [];

  constructor(
    readonly net: ScriptedNetwork,
    readonly method: TraceMethod = 'icmp-paris',
    /** The time `bucket` routers refill by (ms); without one, time stands still. */
    readonly clock: { read(): number } = { read: () => 0 },
    /** The `bucket` routers' credit: shared by senders whose networks share routers (traces to several destinations). */
    private readonly buckets = new Map<string, { tokens: number; at: number }>(),
  ) {}

  /** One probe on `flow` with `ttl`: what the real prober resolves to (undefined: timed out, `*`). */
  probe(flow: number, ttl: number, index = 0): ProbeReply | undefined {
    this.sent.push({ flow, ttl });
    const path = pathOf(this.net, flow);
    const at = path[Math.min(ttl, path.length) - 1]!;
    const nth = (this.arrived.get(at) ?? 0) + 1;
    this.arrived.set(at, nth);
    const rttUs = 100 * Math.min(ttl, path.length) + index;
    const replyTtl = 64 - Math.min(ttl, path.length) + 1;
    if (at === this.net.dst) return this.destinationAnswer(rttUs, replyTtl);
    const router = this.net.routers[at]!;
    const policy = router.answers ?? { kind: 'all' };
    if (policy.kind === 'bucket' ? !this.takeToken(at, policy) : !answersNow(policy, nth)) return undefined;
    if (ttl <= path.length) return { from: at, rttUs, icmpType: ICMP_TIME_EXCEEDED, icmpCode: 0, replyTtl };
    // Past a router with no route onward: it says so, or the probe is lost.
    return router.unreachable === undefined
      ? undefined
      : { from: at, rttUs, icmpType: ICMP_DEST_UNREACHABLE, icmpCode: router.unreachable, replyTtl };
  }

  private destinationAnswer(rttUs: number, replyTtl: number): ProbeReply | undefined {
    const mode = this.net.destination ?? 'answers';
    if (mode === 'silent') return undefined;
    if (this.method === 'tcp-syn')
      return { from: this.net.dst, rttUs, replyTtl, tcpFlags: mode === 'rst' ? 'rst' : 'syn-ack' };
    if (this.method === 'udp-paris')
      return { from: this.net.dst, rttUs, icmpType: ICMP_DEST_UNREACHABLE, icmpCode: PORT_UNREACHABLE, replyTtl };
    return { from: this.net.dst, rttUs, icmpType: ICMP_ECHO_REPLY, icmpCode: 0, replyTtl };
  }

  /** `send` for traceFlow / traceDoubletree: every probe of the trace on the one flow `flow` (Paris). */
  paris(flow: number): SendProbe {
    return (ttl, index) => Promise.resolve(this.probe(flow, ttl, index));
  }

  /**
   * `send` of a classic traceroute, which changes the flow identifier with every probe (UDP port or ICMP
   * sequence and so checksum): here only to show the link check catches the false links it reports.
   */
  classic(base: number, perHop = 3): SendProbe {
    return (ttl, index) => Promise.resolve(this.probe(base + (ttl - 1) * perHop + index, ttl, index));
  }

  /** `send` for traceMultipath: flow n is the n-th flow identifier. */
  multipath(): SendFlowProbe {
    return (flow, ttl) => Promise.resolve(this.probe(flow, ttl));
  }

  private takeToken(router: string, policy: { burst: number; everyMs: number }): boolean {
    const now = this.clock.read();
    const b = this.buckets.get(router) ?? { tokens: policy.burst, at: now };
    b.tokens = Math.min(policy.burst, b.tokens + (now - b.at) / policy.everyMs);
    b.at = now;
    this.buckets.set(router, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Probes that reached `address` so far. */
  reached(address: string): number {
    return this.arrived.get(address) ?? 0;
  }
}

function answersNow(policy: AnswerPolicy, nth: number): boolean {
  switch (policy.kind) {
    case 'all':
      return true;
    case 'silent':
      return false;
    case 'every':
      return (nth - 1) % policy.n === 0;
    case 'burst':
      return nth <= policy.burst || (nth - policy.burst) % policy.thenEvery === 0;
    case 'bucket':
      return true;
  }
}

/** A chain of routers `prefix.1 … prefix.n` into `dst`, with per-router overrides. */
export function chain(
  n: number,
  dst: string,
  over: Record<number, Partial<ScriptedRouter>> = {},
  prefix = '10.0.0',
): ScriptedNetwork {
  const addr = (i: number) => `${prefix}.${i}`;
  const routers: Record<string, ScriptedRouter> = {};
  for (let i = 1; i <= n; i++) routers[addr(i)] = { next: [i === n ? dst : addr(i + 1)], ...over[i] };
  return { first: addr(1), dst, routers };
}
