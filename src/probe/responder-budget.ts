/**
 * Per-responder ICMP budgets for one worker, shared by all its traces. Most routers limit the ICMP errors
 * they send: Linux a burst of 6 then one per second per destination, many vendors one per 500 ms for all
 * sources together. Probing such a router in bursts (a multipath hop, many traces at once) gets a few answers
 * and then silence, and an interface reached only by the later probes is never seen at all.
 *
 * The budget learns, from the answers, which interface follows which (a flow answered by P at one TTL and R at
 * the next). A probe past P that went unanswered, where P has successors that answer, is worth one more try a
 * second later on the same flow: a flow takes one path, so an answer then (from R) shows R dropped the first
 * probe, and R is paced once that has happened twice. A router that never answers stays silent and is never paced, and after
 * a few such tries that all stay silent (a silent router beside an answering one behind P), P's misses are
 * no longer tried again.
 *
 * A probe whose hop before answered from P waits for a slot of every paced successor of P. Slots start at half
 * the rate Linux's default refills (never longer than 10 s: past that the probe goes and may be lost), so the router's bucket keeps credit for its interfaces this worker has not
 * learned yet (a router limits all its interfaces together). A miss where a paced interface is P's only
 * successor doubles its spacing, an answer shortens it by 5%, and one paced faster than every 100 ms is paced
 * no more.
 */
export class ResponderBudget implements ResponderGate {
  private readonly next = new Map<string, Set<string>>();
  private readonly paced = new Map<string, Pace>();
  /** Per P: second tries of its misses, and how many of them were answered. */
  private readonly tries = new Map<string, { tried: number; answered: number }>();
  /** Per interface: second tries it answered before it was paced. */
  private readonly dropped = new Map<string, number>();
  /** Waits under way, each with what ends it early; none once closed. */
  private readonly waiting = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly opts: {
      /** Slot spacing for an interface just found rate-limited (ms). */
      intervalMs?: number;
      maxIntervalMs?: number;
      /** Entries kept before the tables start over (a worker runs for months). */
      maxEntries?: number;
      now?: () => number;
      sleep?: (ms: number) => Promise<void>;
    } = {},
  ) {}

  /** Interfaces paced now, with their slot spacing (ms): for /health and the tests. */
  limited(): Record<string, number> {
    return Object.fromEntries([...this.paced].map(([addr, p]) => [addr, Math.round(p.intervalMs)]));
  }

  /** Ends every wait now and all later ones at once: a worker shutting down does not hold its traces back. */
  close(): void {
    this.closed = true;
    for (const wake of this.waiting) wake();
    this.waiting.clear();
  }

  /**
   * Waits for a slot of every paced interface that may answer a probe sent one hop past `prev`. A queue
   * longer than `patienceMs` is not joined: the probe goes now and may be lost, rather than hold its trace
   * for minutes behind a burst of other traces' probes. False when it went without a slot for that reason.
   */
  async before(prev: string | null, patienceMs = MAX_WAIT_MS): Promise<boolean> {
    if (this.closed) return true;
    const now = this.now();
    let wait = 0;
    let slotted = true;
    for (const r of this.pacedAfter(prev)) {
      const p = this.paced.get(r)!;
      const slot = Math.max(p.nextAt, now);
      if (slot - now > patienceMs) {
        slotted = false;
        continue;
      }
      p.nextAt = slot + p.intervalMs;
      wait = Math.max(wait, slot - now);
    }
    if (wait > 0) await this.sleep(wait);
    return slotted;
  }

  /** What a probe one hop past `prev` got: `answer` (its source) or null. */
  after(prev: string | null, answer: string | null): void {
    if (this.next.size > (this.opts.maxEntries ?? 200_000)) this.forget();
    const succ = prev === null ? undefined : this.next.get(prev);
    if (answer !== null) {
      if (prev !== null && prev !== answer) {
        if (succ) succ.add(answer);
        else this.next.set(prev, new Set([answer]));
      }
      const p = this.paced.get(answer);
      // Answers speed it up again, until it is no longer paced: a router that lost a probe once, or whose
      // limit is well above what this worker asks of it, is not held back for ever.
      if (p && (p.intervalMs *= 0.95) < MIN_INTERVAL_MS) this.paced.delete(answer);
      return;
    }
    if (succ?.size !== 1) return;
    const p = this.paced.get([...succ][0]!);
    if (p) p.intervalMs = Math.min(this.opts.maxIntervalMs ?? MAX_INTERVAL_MS, p.intervalMs * 2);
  }

  /**
   * Whether a probe one hop past `prev` that went unanswered is worth a second try on the same flow, and if
   * so waits until it is due: a slot, where `prev` leads to a paced interface; else a second, so that a
   * router out of credit has some again. False where nothing past `prev` ever answered, or where second tries
   * past it have stayed silent every time.
   */
  async retryWait(prev: string | null): Promise<boolean> {
    if (prev === null || this.closed) return false;
    if (this.pacedAfter(prev).length > 0) return true;
    if (!this.next.get(prev)?.size) return false;
    const t = this.tries.get(prev);
    if (t && t.answered === 0 && t.tried >= SILENT_AFTER_TRIES) return false;
    await this.sleep(RETRY_AFTER_MS);
    return true;
  }

  /** What the second try past `prev` got: an answer shows that its source dropped the first probe. */
  retried(prev: string | null, answer: string | null): void {
    if (prev === null) return;
    const t = this.tries.get(prev) ?? { tried: 0, answered: 0 };
    t.tried++;
    this.tries.set(prev, t);
    if (answer === null || this.paced.has(answer)) return;
    t.answered++;
    // Twice, so that a probe lost once (a router still resolving its neighbour's address drops all but a few
    // packets) does not pace an interface that answers everything.
    const seen = (this.dropped.get(answer) ?? 0) + 1;
    this.dropped.set(answer, seen);
    if (seen < 2) return;
    this.dropped.delete(answer);
    // Its credit just ran out: the first slot is one interval on.
    const intervalMs = this.opts.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.paced.set(answer, { intervalMs, nextAt: this.now() + intervalMs });
  }

  /**
   * Whether `v`'s answers, or those of what follows it, are rate-limited, and every successor this worker has
   * seen follow `v` is among `seen`: another answer from there would most likely only confirm what is known.
   */
  knownThrough(v: string, seen: ReadonlySet<string>): boolean {
    const succ = this.next.get(v);
    if (!succ?.size || !(this.paced.has(v) || this.pacedAfter(v).length > 0)) return false;
    for (const r of succ) if (!seen.has(r)) return false;
    return true;
  }

  /**
   * Whether a flow answered by `p` and two hops on by `x`, the hop between lost, may show a link this worker
   * has not seen: `p` leads to a paced interface (the loss is likely its rate limit), and some successor of
   * `p` is not yet known to lead to `x`.
   */
  mayLink(p: string, x: string): boolean {
    if (this.pacedAfter(p).length === 0) return false;
    for (const r of this.next.get(p) ?? []) if (!this.next.get(r)?.has(x)) return true;
    return false;
  }

  /** Paced interfaces that may answer a probe one hop past `prev`. */
  pacedAfter(prev: string | null): string[] {
    if (prev === null) return [];
    return [...(this.next.get(prev) ?? [])].filter((r) => this.paced.has(r));
  }

  private now(): number {
    return (this.opts.now ?? performance.now.bind(performance))();
  }

  private async sleep(ms: number): Promise<void> {
    if (this.opts.sleep) return this.opts.sleep(ms);
    let wake = () => {};
    const timer = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => (clearTimeout(t), resolve());
    });
    this.waiting.add(wake);
    await timer;
    this.waiting.delete(wake);
  }

  private forget(): void {
    this.next.clear();
    this.tries.clear();
    this.dropped.clear();
  }
}

/** What a trace needs of a budget (responder-budget.ts); tests may script their own. */
export interface ResponderGate {
  /**
   * Waits before a probe one hop past `prev` (the hop before's answer, null where unknown), at most about
   * `patienceMs` for a slot; false when the probe had to go without one.
   */
  before(prev: string | null, patienceMs?: number): Promise<boolean>;
  after(prev: string | null, answer: string | null): void;
  /** Waits until a second try of an unanswered probe past `prev` is due; false when it is not worth one. */
  retryWait(prev: string | null): Promise<boolean>;
  retried(prev: string | null, answer: string | null): void;
  pacedAfter(prev: string | null): string[];
  knownThrough(v: string, seen: ReadonlySet<string>): boolean;
  mayLink(p: string, x: string): boolean;
}

/** `send` that waits for the budget of whatever may answer, and reports what did; `prev` is the hop before's answer. */
export function gated<A extends unknown[], R extends { from: string } | undefined>(
  gate: ResponderGate | undefined,
  send: (...args: A) => Promise<R>,
  prev: (...args: A) => string | null,
): (...args: A) => Promise<R> {
  if (!gate) return send;
  return async (...args: A) => {
    const p = prev(...args);
    await gate.before(p);
    const reply = await send(...args);
    gate.after(p, reply?.from ?? null);
    return reply;
  };
}

interface Pace {
  intervalMs: number;
  nextAt: number;
}

/** Twice Linux's default `icmp_ratelimit` of 1000 ms: the router's bucket refills faster than we spend it. */
const DEFAULT_INTERVAL_MS = 2_000;
const MAX_INTERVAL_MS = 8_000;
const MIN_INTERVAL_MS = 100;
/** The longest a probe waits for a slot. */
const MAX_WAIT_MS = 10_000;
/** Linux refills one error a second: a second try sooner would find the bucket as empty as the first. */
const RETRY_AFTER_MS = 1_000;
/** Second tries past one interface that all stayed silent before its misses are taken for a silent router. */
const SILENT_AFTER_TRIES = 3;
