import { parseAddress, prefixKey } from '../net/ip-address.js';

export interface StopSetOptions {
  /** An entry observed longer ago than this stops no trace (default 1 h). */
  maxAgeMs?: number;
  /** Each destination network is traced in full, no entry used, at least this often (default 6 h). */
  fullTraceEveryMs?: number;
  /** Past this many (interface, network) entries the global set starts over. */
  maxEntries?: number;
  /** How many destinations' last paths are kept for telling a moved route (the oldest go first). */
  maxRoutes?: number;
  now?: () => number;
}

export interface StopSetStats {
  /** Probes not sent because an entry knew the hops. */
  probes_saved: number;
  traces: number;
  /** Traces that used no entry: the whole path observed afresh. */
  full_traces: number;
  /** Of those, traces the full-trace period asked for. */
  scheduled_full_traces: number;
  /** Traces cut short forward at a known (interface, network) pair. */
  stopped: number;
  /** Entries that stopped nothing because they were too old. */
  expired: number;
  /** Entries dropped because a trace found another hop where they expected theirs. */
  invalidated: number;
  entries: number;
  near_worker: number;
}

interface Entry {
  /** Hops the known path still had after the interface. */
  remaining: number;
  /** The TTL it answered at, for telling where a later trace goes elsewhere. */
  ttl: number;
  /** When the path past it was last observed (ms). */
  at: number;
}

interface Network {
  entries: Map<string, Entry>;
  /** The first trace into the network, then its last full trace: the next full trace is due a period after. */
  fullAt: number;
}

/** A destination's last trace: its flow, the interface at each TTL, and its last full trace (else its first). */
interface RouteMemory {
  flow: number;
  hops: Map<number, string>;
  fullAt: number;
}

/** What a trace learned, for `learn`. */
export interface TraceOutcome {
  /** The flow it probed on: only the same flow to the same destination is expected on the same path. */
  flow: number;
  /** Its hops in TTL order, null for silent. */
  hops: Array<{ ttl: number; from: string | null }>;
  /** TTLs at or below it count as near the worker. */
  localHorizon: number;
  /** The known interface forward probing stopped at, if it stopped at one. */
  stoppedAt?: string | undefined;
  /** The known near-worker interface backward probing stopped at, if any. */
  stoppedNearWorkerAt?: string | undefined;
  /** The trace used no entry at all. */
  full: boolean;
}

/**
 * Doubletree's stop sets (Donnet et al., 2005), for one worker:
 * - the local stop set: interfaces seen near this worker. Probing backwards from the middle of a path
 *   stops at the first one already known: the rest of the way to the worker is the same tree.
 * - the global stop set: (interface, destination network) pairs. Probing forwards stops at a pair seen
 *   before: from there, the path into that /24 (/48) is known. Destination networks rather than single
 *   destinations, because targets are spread one per /24 and hops feed back as targets in the same networks.
 *
 * Both would hide every route change behind a known point for as long as the worker runs, so knowledge ages:
 * an entry is as old as the observation it rests on (a trace cut short at a known pair re-observes nothing
 * past it, so what it learns is no younger than that pair), entries past `maxAgeMs` stop nothing, every
 * destination (of the last `maxRoutes` traced) and every network gets a full trace once per `fullTraceEveryMs`,
 * and a destination traced again on its flow that meets another interface where its last trace had its own
 * drops the network's entries from that TTL on.
 */
export class StopSet {
  private readonly local = new Map<string, number>();
  private readonly networks = new Map<string, Network>();
  private readonly routes = new Map<string, RouteMemory>();
  private readonly maxAgeMs: number;
  private readonly fullTraceEveryMs: number;
  private readonly maxEntries: number;
  private readonly maxRoutes: number;
  private readonly now: () => number;
  private size = 0;
  readonly stats: Omit<StopSetStats, 'entries' | 'near_worker'> = {
    probes_saved: 0,
    traces: 0,
    full_traces: 0,
    scheduled_full_traces: 0,
    stopped: 0,
    expired: 0,
    invalidated: 0,
  };

  constructor(opts: StopSetOptions = {}) {
    this.maxAgeMs = opts.maxAgeMs ?? 60 * 60_000;
    this.fullTraceEveryMs = opts.fullTraceEveryMs ?? 6 * 60 * 60_000;
    this.maxEntries = opts.maxEntries ?? 500_000;
    this.maxRoutes = opts.maxRoutes ?? 20_000;
    this.now = opts.now ?? Date.now;
  }

  get saved(): number {
    return this.stats.probes_saved;
  }

  set saved(n: number) {
    this.stats.probes_saved = n;
  }

  snapshot(): StopSetStats {
    return { ...this.stats, entries: this.size, near_worker: this.local.size };
  }

  /**
   * Whether the trace to `dst` must use no entry: its own full trace is due (a destination remembered here), or
   * its network's. A destination's first trace may use what other traces into its network learned.
   */
  fullTraceDue(dst: string): boolean {
    const due = (fullAt: number | undefined) => fullAt !== undefined && this.now() - fullAt >= this.fullTraceEveryMs;
    return due(this.routes.get(dst)?.fullAt) || due(this.networks.get(networkOf(dst))?.fullAt);
  }

  knownNearWorker(iface: string): boolean {
    const at = this.local.get(iface);
    if (at === undefined) return false;
    if (this.fresh(at)) return true;
    this.local.delete(iface);
    this.stats.expired++;
    return false;
  }

  /** Hops that remain to the destination network after `iface`, if a fresh pair says so. */
  remainingAfter(iface: string, dst: string): number | undefined {
    const net = this.networks.get(networkOf(dst));
    const entry = net?.entries.get(iface);
    if (!net || !entry) return undefined;
    if (this.fresh(entry.at)) return entry.remaining;
    net.entries.delete(iface);
    this.size--;
    this.stats.expired++;
    return undefined;
  }

  /**
   * A forward hop that is not a known pair: where the last trace to this destination, on this flow, had another
   * interface at this TTL, the route moved (per-flow balancers send one flow one way, so this is no other
   * branch), and the network's entries from this TTL on are dropped. Returns how many went.
   */
  invalidateIfMoved(ttl: number, iface: string, dst: string, flow: number): number {
    const route = this.routes.get(dst);
    const expected = route?.flow === flow ? route.hops.get(ttl) : undefined;
    const net = this.networks.get(networkOf(dst));
    if (!net || expected === undefined || expected === iface || net.entries.has(iface)) return 0;
    let dropped = 0;
    for (const [key, e] of net.entries)
      if (e.ttl >= ttl) {
        net.entries.delete(key);
        dropped++;
      }
    this.size -= dropped;
    this.stats.invalidated += dropped;
    return dropped;
  }

  /** Records a finished trace toward `dst`. */
  learn(dst: string, t: TraceOutcome): void {
    const now = this.now();
    this.stats.traces++;
    if (t.full) this.stats.full_traces++;
    if (this.size > this.maxEntries) {
      this.networks.clear();
      this.size = 0;
    }
    this.remember(dst, t, now);
    const netKey = networkOf(dst);
    let net = this.networks.get(netKey);
    if (!net) {
      net = { entries: new Map(), fullAt: now };
      this.networks.set(netKey, net);
    } else if (t.full) net.fullAt = now;

    const answered = t.hops.filter((h): h is { ttl: number; from: string } => h.from !== null);
    const lastHop = answered.at(-1);
    const last = lastHop?.ttl ?? 0;
    // A trace cut short at a known pair saw nothing past it: what lies beyond is as old as that pair's entry.
    const stop = t.stoppedAt !== undefined ? net.entries.get(t.stoppedAt) : undefined;
    const tail = stop?.remaining ?? 0;
    const at = stop ? Math.min(stop.at, now) : now;
    for (const h of answered) {
      if (h.from === t.stoppedAt) {
        if (stop) stop.ttl = h.ttl;
        continue;
      }
      if (h.ttl <= t.localHorizon && h.from !== t.stoppedNearWorkerAt) this.local.set(h.from, now);
      if (!net.entries.has(h.from)) this.size++;
      net.entries.set(h.from, { remaining: last - h.ttl + tail, ttl: h.ttl, at });
    }
  }

  /** Keeps the trace's interfaces per TTL (those it did not probe as before, on the same flow) for the next one. */
  private remember(dst: string, t: TraceOutcome, now: number): void {
    const before = this.routes.get(dst);
    const hops = before?.flow === t.flow ? before.hops : new Map<number, string>();
    for (const h of t.hops) if (h.from !== null) hops.set(h.ttl, h.from);
    const fullAt = t.full || !before ? now : before.fullAt;
    // Re-inserted, so the Map's order is least recently traced first.
    this.routes.delete(dst);
    this.routes.set(dst, { flow: t.flow, hops, fullAt });
    if (this.routes.size > this.maxRoutes) this.routes.delete(this.routes.keys().next().value!);
  }

  private fresh(at: number): boolean {
    return this.now() - at < this.maxAgeMs;
  }
}

const networkOf = (dst: string) => {
  const a = parseAddress(dst);
  return a ? prefixKey(a) : dst;
};

/** The stop set on a worker's /health: its counters and the share of traces that observed the whole path. */
export function stopSetHealth(s: StopSetStats): StopSetStats & { full_trace_share: number | null } {
  return { ...s, full_trace_share: s.traces > 0 ? Math.round((s.full_traces / s.traces) * 1000) / 1000 : null };
}
