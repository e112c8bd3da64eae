import type { ProbeReply } from './probe-reply.js';
import { stoppingPoint } from './mda-stopping-points.js';
import type { MultipathHop, SendFlowProbe } from './multipath-trace.js';
import { gated, type ResponderGate } from './responder-budget.js';

/** Node control may draw this many new flows at once at the hop before: a few round trips, not a flood. */
const NODE_CONTROL_BATCH = 16;
/** Flows tried to find the link into an interface that has none yet (the hop before may have dropped one). */
const ANCHOR_TRIES = 2;

/** What a multipath trace has sent and heard so far: per TTL, every flow probed there and its answer. */
export class MdaState {
  probesSent = 0;
  private nextFlow = 1;
  private lastTtl = 0;
  private readonly byTtl = new Map<number, Map<number, ProbeReply | null>>();
  /** Per TTL: new flows sent only there while the hop before had one interface, so they crossed it. */
  private readonly inferred = new Map<number, Map<number, string>>();
  private readonly anchorTries = new Map<string, number>();

  private readonly send: SendFlowProbe;

  constructor(
    readonly dst: string,
    private readonly rawSend: SendFlowProbe,
    readonly confidence: number,
    readonly maxFlows: number,
    readonly responders?: ResponderGate,
  ) {
    // Whoever may answer a flow at a TTL is a successor of what answered it one TTL before.
    this.send = gated(responders, rawSend, (flow, ttl) => this.byTtl.get(ttl - 1)?.get(flow)?.from ?? null);
  }

  /** The highest TTL probed so far. */
  get ttls(): number {
    return this.lastTtl;
  }

  /**
   * Sends `flow` at `ttl` again once every paced interface past `prev` (its answer one TTL before) has a slot
   * within `patienceMs`, and not at all where one has not: true when it was answered.
   */
  async probeWhenDue(flow: number, ttl: number, prev: string, patienceMs: number): Promise<boolean> {
    const gate = this.responders;
    if (!gate || !(await gate.before(prev, patienceMs))) return false;
    const reply = await this.rawSend(flow, ttl);
    this.probesSent++;
    gate.after(prev, reply?.from ?? null);
    if (reply) this.at(ttl).set(flow, reply);
    return reply !== undefined;
  }

  at(ttl: number): Map<number, ProbeReply | null> {
    let m = this.byTtl.get(ttl);
    if (!m) this.byTtl.set(ttl, (m = new Map<number, ProbeReply | null>()));
    if (ttl > this.lastTtl) this.lastTtl = ttl;
    return m;
  }

  /** Flows needed at one TTL for k interfaces seen there (or k successors of one interface). */
  need(k: number): number {
    return Math.min(this.maxFlows, stoppingPoint(Math.max(1, k), this.confidence));
  }

  async probe(flows: number[], ttl: number): Promise<void> {
    const answers = this.at(ttl);
    const unsent = flows.filter((f) => !answers.has(f));
    const replies = await Promise.all(unsent.map((f) => this.send(f, ttl)));
    this.probesSent += unsent.length;
    unsent.forEach((f, i) => answers.set(f, replies[i] ?? null));
  }

  /**
   * Sends again, once each is due (responder-budget.ts), flows that went unanswered at `ttl` past an interface
   * whose successors answer: first one per such interface, and the rest of its flows too where that one was
   * answered or the interface leads to a router already paced (it was out of ICMP credit, not absent). True
   * when any of them answered this time.
   */
  async retryUnanswered(ttl: number): Promise<boolean> {
    const gate = this.responders;
    if (!gate) return false;
    const answers = this.at(ttl);
    const prev = this.at(ttl - 1);
    const byPrev = new Map<string, number[]>();
    for (const [f, r] of answers) {
      const p = prev.get(f)?.from;
      if (r !== null || p === undefined || p === this.dst) continue;
      byPrev.set(p, [...(byPrev.get(p) ?? []), f]);
    }
    const again = async (f: number): Promise<boolean> => {
      const reply = await this.send(f, ttl);
      this.probesSent++;
      if (reply) answers.set(f, reply);
      return reply !== undefined;
    };
    const found = await Promise.all(
      [...byPrev].map(async ([p, [first, ...rest]]) => {
        if (!(await gate.retryWait(p))) return false;
        const answered = await again(first!);
        gate.retried(p, answers.get(first!)?.from ?? null);
        if (!answered && gate.pacedAfter(p).length === 0) return false;
        return (await Promise.all(rest.map(again))).some(Boolean) || answered;
      }),
    );
    return found.some(Boolean);
  }

  /** Sends `count` new flows at `ttl`; with `via`, the one interface of the hop before, counts them through it. */
  async probeFresh(count: number, ttl: number, via?: string): Promise<void> {
    const flows = Array.from({ length: count }, () => this.nextFlow++);
    if (via !== undefined) {
      const m = this.inferred.get(ttl) ?? this.inferred.set(ttl, new Map()).get(ttl)!;
      for (const f of flows) m.set(f, via);
    }
    await this.probe(flows, ttl);
  }

  /** New flows at `ttl` counted through `v` at the hop before without a probe there. */
  inferredThrough(ttl: number, v: string): number[] {
    const prev = this.at(ttl - 1);
    return [...(this.inferred.get(ttl) ?? [])].filter(([f, via]) => via === v && !prev.has(f)).map(([f]) => f);
  }

  /**
   * One untried flow per interface at `ttl` that no link reaches yet, to probe one TTL earlier: the link into
   * an interface found by a new flow is known only once that flow is seen at the hop before too.
   */
  unlinkedFlows(ttl: number): number[] {
    const cur = this.at(ttl);
    const prev = this.at(ttl - 1);
    const linked = new Set<string>();
    const untried = new Map<string, number>();
    for (const [f, r] of cur) {
      if (!r) continue;
      const before = prev.get(f);
      if (before && before.from !== r.from) linked.add(r.from);
      else if (before === undefined && !untried.has(r.from)) untried.set(r.from, f);
    }
    const flows: number[] = [];
    for (const [w, f] of untried) {
      const key = `${ttl}\u0000${w}`;
      const tries = this.anchorTries.get(key) ?? 0;
      if (linked.has(w) || tries >= ANCHOR_TRIES) continue;
      this.anchorTries.set(key, tries + 1);
      flows.push(f);
    }
    return flows;
  }

  hops(): MultipathHop[] {
    return Array.from({ length: this.lastTtl }, (_, i) => {
      const hop: MultipathHop = { ttl: i + 1, interfaces: [], flows: 0, silent: 0, rttUs: {} };
      for (const r of this.at(i + 1).values()) {
        hop.flows++;
        if (!r) {
          hop.silent++;
          continue;
        }
        if (!hop.rttUs[r.from]) {
          hop.interfaces.push(r.from);
          hop.rttUs[r.from] = [];
        }
        hop.rttUs[r.from]!.push(r.rttUs);
      }
      return hop;
    });
  }

  /** Interface pairs answering one flow at consecutive TTLs; a flow that reached the destination early is none. */
  links(): Array<[string, string]> {
    const seen = new Set<string>();
    const out: Array<[string, string]> = [];
    for (let ttl = 2; ttl <= this.lastTtl; ttl++) {
      const prev = this.at(ttl - 1);
      for (const [f, r] of this.at(ttl)) {
        const a = prev.get(f)?.from;
        if (!r || !a || a === r.from || seen.has(`${a}>${r.from}`)) continue;
        seen.add(`${a}>${r.from}`);
        out.push([a, r.from]);
      }
    }
    return out;
  }
}

/**
 * The flows probed at a hop, grouped by the interface that answered them. The flows nothing answered form one
 * vertex of their own: they crossed a silent router (or one out of ICMP credit), and what lies past it is found
 * only by following them. The destination is no vertex: nothing lies past it.
 */
function vertexFlows(answers: Map<number, ProbeReply | null>, dst: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [f, r] of answers) {
    if (r?.from === dst) continue;
    const v = r ? r.from : SILENT;
    const list = out.get(v);
    if (list) list.push(f);
    else out.set(v, [f]);
  }
  return out;
}

/** The vertex of the flows a hop left unanswered (no address is empty). */
const SILENT = '';

/** Known flows of each vertex not yet probed at the next TTL, taken in turn across vertices. */
function roundRobin(vertices: Map<string, number[]>, probed: Map<number, unknown>, count: number): number[] {
  const queues = [...vertices.values()].map((flows) => flows.filter((f) => !probed.has(f)));
  const out: number[] = [];
  for (let i = 0; out.length < count && queues.some((q) => i < q.length); i++)
    for (const q of queues) if (i < q.length && out.length < count) out.push(q[i]!);
  return out;
}

/**
 * Probes TTL `ttl` until MDA's stopping rule holds there. In order, each round:
 * 1. every interface v of the hop before gets n_k flows known to cross it, k its successors found so far,
 *    reusing its own flows first (node control, the rule of full MDA);
 * 2. the hop as a whole gets n_k flows for its k interfaces (the only rule where the hop before is unknown:
 *    TTL 1, or after a silent hop);
 * 3. an interface still short of flows gets new ones: at this TTL when it was the only one of its hop (every
 *    flow crosses it), else drawn at the hop before until enough land on it.
 * New flows that find an interface no link reaches yet are probed one TTL earlier, so every link is seen on
 * one flow at both ends and never inferred.
 */
export async function exploreHop(s: MdaState, ttl: number): Promise<void> {
  let freshLeft = s.maxFlows;
  for (;;) {
    const prev = ttl > 1 ? s.at(ttl - 1) : new Map<number, ProbeReply | null>();
    const cur = s.at(ttl);
    const vertices = vertexFlows(prev, s.dst);
    const only = vertices.size === 1 ? [...vertices.keys()][0] : undefined;

    const reuse: number[] = [];
    const short = new Map<string, number>();
    for (const [v, flows] of vertices) {
      const crossed = [...flows.filter((f) => cur.has(f)), ...s.inferredThrough(ttl, v)];
      const next = new Set(crossed.flatMap((f) => (cur.get(f) ? [cur.get(f)!.from] : [])));
      const deficit = s.need(next.size) - crossed.length;
      // Where answers are scarce (a rate-limited router at or past v), what the worker already knows of v's
      // successors stands in for the rest of the stopping rule: its answers go to links not seen yet.
      if (deficit <= 0 || (v !== SILENT && s.responders?.knownThrough(v, next))) continue;
      const unprobed = flows.filter((f) => !cur.has(f)).slice(0, deficit);
      reuse.push(...unprobed);
      if (deficit > unprobed.length) short.set(v, deficit - unprobed.length);
    }
    if (reuse.length > 0) {
      await s.probe(reuse, ttl);
      continue;
    }

    const seen = new Set([...cur.values()].flatMap((r) => (r ? [r.from] : [])));
    const wantHop = s.need(seen.size) - cur.size;
    if (wantHop > 0) {
      const known = roundRobin(vertices, cur, wantHop);
      const fresh = Math.min(wantHop - known.length, freshLeft);
      if (known.length + fresh > 0) {
        freshLeft -= fresh;
        await s.probe(known, ttl);
        await s.probeFresh(fresh, ttl, only);
        await anchor(s, ttl);
        continue;
      }
    }

    if (short.size > 0 && freshLeft > 0) {
      if (only !== undefined) {
        const count = Math.min(short.get(only)!, freshLeft);
        freshLeft -= count;
        await s.probeFresh(count, ttl, only);
        await anchor(s, ttl);
        continue;
      }
      // A flow lands on v with v's share of the hop before: draw enough for each short one's deficit.
      const answered = [...vertices.values()].reduce((n, flows) => n + flows.length, 0);
      let count = 0;
      for (const [v, deficit] of short) {
        // A balancer spreads flows evenly: a few flows seen on v understate its share, so assume no less.
        const share = Math.max(vertices.get(v)!.length / answered, 1 / vertices.size);
        count += Math.ceil(deficit / share);
      }
      count = Math.min(count, NODE_CONTROL_BATCH, freshLeft);
      freshLeft -= count;
      await s.probeFresh(count, ttl - 1);
      await anchor(s, ttl - 1);
      continue;
    }
    return;
  }
}

/**
 * Probes flows one TTL earlier until every interface found by a new flow has the link into it, going back
 * while that turns up interfaces new at the hop before too. Not across a hop that nothing answered: there is
 * no link to find.
 */
async function anchor(s: MdaState, ttl: number): Promise<void> {
  for (let t = ttl; t >= 2; t--) {
    const before = s.at(t - 1);
    if (![...before.values()].some((r) => r !== null)) return;
    const flows = s.unlinkedFlows(t);
    if (flows.length === 0) return;
    const known = new Set([...before.values()].flatMap((r) => (r ? [r.from] : [])));
    await s.probe(flows, t - 1);
    if (!flows.some((f) => before.get(f) && !known.has(before.get(f)!.from))) return;
  }
}
