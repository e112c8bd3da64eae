import type { Result } from './result-schema.js';

export interface LinkObservation {
  near: string;
  far: string;
  /** RTT at the far end minus RTT at the near end, best answers of one trace, in µs. */
  deltaUs: number;
  seenAt: string;
}

const best = (rtts: number[]) => (rtts.length ? Math.min(...rtts) : undefined);

/**
 * Links of a traceroute: consecutive TTLs k and k+1 of one flow that both answered (a silent hop between two
 * answers links nothing: the hidden router is not the link). Multipath results carry their links already.
 * Also returns the intermediate hops (routers that answered, not the destination), which become targets.
 */
export function extractLinks(result: Result): { links: LinkObservation[]; hops: string[] } {
  const links: LinkObservation[] = [];
  const hops = new Set<string>();
  const seenAt = result.finished_at;
  if (result.type === 'traceroute') {
    const perTtl = new Map<number, { from: string; rtt?: number }>();
    for (const hop of result.hops) {
      const answers = hop.probes.filter((p) => p !== null);
      const first = answers[0];
      if (!first) continue;
      perTtl.set(hop.ttl, {
        from: first.from,
        rtt: best(answers.filter((a) => a.from === first.from).map((a) => a.rtt_us)),
      });
      if (first.from !== result.target) hops.add(first.from);
    }
    for (const [ttl, near] of perTtl) {
      const far = perTtl.get(ttl + 1);
      if (far && far.from !== near.from)
        links.push({ near: near.from, far: far.from, deltaUs: (far.rtt ?? 0) - (near.rtt ?? 0), seenAt });
    }
  } else if (result.type === 'multipath') {
    const rtt = new Map<string, number | undefined>();
    for (const hop of result.hops) {
      for (const iface of hop.interfaces) {
        rtt.set(iface, best(hop.rtts_us[iface] ?? []));
        if (iface !== result.target) hops.add(iface);
      }
    }
    // A destination that answers at two TTLs in a row (its reply outruns a TTL) is no link to itself.
    for (const [near, far] of result.links)
      if (near !== far) links.push({ near, far, deltaUs: (rtt.get(far) ?? 0) - (rtt.get(near) ?? 0), seenAt });
  }
  return { links, hops: [...hops] };
}
