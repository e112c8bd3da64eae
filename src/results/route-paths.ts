import { createHash } from 'node:crypto';
import type { Result } from './result-schema.js';

/** Per TTL from 1, the sorted addresses that answered; [] where nothing did (`*`) or nothing was probed. */
export type PathHops = string[][];

export interface RoutePath {
  hops: PathHops;
  reached: boolean;
  /** Multipath TTLs where some flows got no answer, so an interface may be hidden there. */
  silentTtls?: number[] | undefined;
}

/** One trace seen as a route observation: the route's key, the path it took, and when. */
export interface RouteObservation extends RoutePath {
  worker: string;
  target: string;
  method: string;
  /** The Paris flow identifier; -1 for a multipath trace, whose path is every branch it found. */
  flow: number;
  at: string;
  resultId: string;
}

export const MULTIPATH_FLOW = -1;

/** The path a traceroute or multipath result shows; null for results that trace nothing (pings). */
export function routeObservation(result: Result): RouteObservation | null {
  if (result.type === 'ping' || result.type === 'alias' || result.type === 'error') return null;
  const perTtl = new Map<number, Set<string>>();
  const silent: number[] = [];
  if (result.type === 'traceroute') {
    for (const hop of result.hops) perTtl.set(hop.ttl, new Set(hop.probes.flatMap((p) => (p ? [p.from] : []))));
  } else {
    for (const hop of result.hops) {
      perTtl.set(hop.ttl, new Set(hop.interfaces));
      if (hop.silent > 0 && hop.interfaces.length > 0) silent.push(hop.ttl);
    }
  }
  // Trailing silent TTLs only say how long the trace waited before it gave up, not where the route goes.
  let last = 0;
  for (const [ttl, set] of perTtl) if (set.size > 0 && ttl > last) last = ttl;
  const hops: PathHops = Array.from({ length: last }, (_, i) => [...(perTtl.get(i + 1) ?? [])].sort());
  return {
    worker: result.worker,
    target: result.target,
    method: result.method,
    flow: result.type === 'traceroute' ? result.flow : MULTIPATH_FLOW,
    at: result.started_at,
    resultId: result.id,
    hops,
    reached: result.reached,
    silentTtls: silent.filter((ttl) => ttl <= last).sort((a, b) => a - b),
  };
}

/**
 * The first TTL at which a trace shows its route elsewhere than the route's picture, or null when it may be
 * the same route. A TTL where either side has no answer is no evidence (a lost probe, a rate-limited router,
 * a Doubletree stop, a router that started answering); two traces that reached their target at different
 * depths differ where the shorter one ends.
 *
 * `exact` (a single-flow Paris trace, deterministic per flow): any other address at a TTL is a change.
 * `overlap` (a multipath trace): MDA stops at a stated confidence, so one trace may miss a branch, and
 * silent flows may hide one; only a TTL whose interfaces share none with the picture is a change.
 */
export function divergeTtl(picture: RoutePath, trace: RoutePath, mode: 'exact' | 'overlap' = 'exact'): number | null {
  const common = Math.min(picture.hops.length, trace.hops.length);
  for (let i = 0; i < common; i++) {
    const x = picture.hops[i]!;
    const y = trace.hops[i]!;
    if (x.length === 0 || y.length === 0) continue;
    // Flows that went unanswered at this TTL may have taken the other side's interfaces (a silent router).
    if (mode === 'overlap' && (picture.silentTtls?.includes(i + 1) || trace.silentTtls?.includes(i + 1))) continue;
    const differs =
      mode === 'exact'
        ? x.length !== y.length || x.some((addr, j) => addr !== y[j])
        : !y.some((addr) => x.includes(addr));
    if (differs) return i + 1;
  }
  // The shorter one met its target at TTL `common`, where the longer one went on: the route got longer or shorter.
  // A shorter one that did not reach its target (cut short by a Doubletree stop set, or by silence) says nothing.
  const [shorter, longer] = picture.hops.length < trace.hops.length ? [picture, trace] : [trace, picture];
  if (!shorter.reached || picture.hops.length === trace.hops.length) return null;
  // A multipath route may reach its target at several depths (ECMP branches of unequal length): a trace that met
  // it where the picture also did is on the route.
  const end = shorter.hops[common - 1] ?? [];
  if (mode === 'overlap' && end.some((a) => longer.hops[common - 1]?.includes(a))) return null;
  return common;
}

/**
 * A single-flow route's picture after a trace on the same path: per TTL, the trace's answer where it has one,
 * else what the picture knew. A trace cut short by the stop set, or one where a router ran out of ICMP credit,
 * adds what it saw and erases nothing, so a later change past its end is still measured against the whole path.
 */
export function mergeExact(picture: RoutePath, trace: RoutePath): RoutePath {
  const reached = picture.reached || trace.reached;
  // Equal lengths when both reached (else they diverge); otherwise the one that reached ends the route.
  const length = trace.reached
    ? trace.hops.length
    : picture.reached
      ? picture.hops.length
      : Math.max(picture.hops.length, trace.hops.length);
  const hops = Array.from({ length }, (_, i) => {
    const seen = trace.hops[i] ?? [];
    return seen.length > 0 ? seen : (picture.hops[i] ?? []);
  });
  return { hops, reached };
}

/** A multipath route's picture grows by every interface its traces find at each TTL. */
export function unionPath(a: RoutePath, b: RoutePath): RoutePath {
  const hops = Array.from({ length: Math.max(a.hops.length, b.hops.length) }, (_, i) =>
    [...new Set([...(a.hops[i] ?? []), ...(b.hops[i] ?? [])])].sort(),
  );
  const silentTtls = [...new Set([...(a.silentTtls ?? []), ...(b.silentTtls ?? [])])].sort((x, y) => x - y);
  return { hops, reached: a.reached || b.reached, silentTtls };
}

/** md5 of the canonical form (sorted addresses per TTL, so the same path always hashes alike), as a uuid. */
export function pathHash(p: RoutePath): string {
  const hex = createHash('md5')
    .update(JSON.stringify([p.reached, p.hops, p.silentTtls ?? []]))
    .digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
