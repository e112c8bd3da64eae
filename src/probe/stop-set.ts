import { parseAddress, prefixKey } from '../net/ip-address.js';

/**
 * Doubletree's stop sets (Donnet et al., 2005), for one worker:
 * - the local stop set: interfaces seen near this worker. Probing backwards from the middle of a path
 *   stops at the first one already known: the rest of the way to the worker is the same tree.
 * - the global stop set: (interface, destination network) pairs. Probing forwards stops at a pair seen
 *   before: from there, the path into that /24 (/48) is known. Destination networks rather than single
 *   destinations, because targets are spread one per /24 and hops feed back as targets in the same networks.
 */
export class StopSet {
  private readonly local = new Set<string>();
  /** (interface, destination network) → how many hops the known path still had after that interface. */
  private readonly global = new Map<string, number>();
  saved = 0;

  constructor(private readonly maxEntries = 500_000) {}

  knownNearWorker(iface: string): boolean {
    return this.local.has(iface);
  }

  /** Hops that remain to the destination network after `iface`, if the pair is known. */
  remainingAfter(iface: string, dst: string): number | undefined {
    return this.global.get(key(iface, dst));
  }

  /** Records a finished trace: its hops (TTL order, null for silent) and whether it reached `dst`. */
  learn(dst: string, hops: Array<{ ttl: number; from: string | null }>, localHorizon: number): void {
    if (this.global.size > this.maxEntries) this.global.clear();
    const answered = hops.filter((h): h is { ttl: number; from: string } => h.from !== null);
    const lastHop = answered.at(-1);
    const last = lastHop?.ttl ?? 0;
    // A trace the stop set cut short ends at a hop already known: what lies beyond it still counts.
    const tail = lastHop ? (this.global.get(key(lastHop.from, dst)) ?? 0) : 0;
    for (const h of answered) {
      if (h.ttl <= localHorizon) this.local.add(h.from);
      this.global.set(key(h.from, dst), last - h.ttl + tail);
    }
  }
}

const key = (iface: string, dst: string) => {
  const a = parseAddress(dst);
  return `${iface}|${a ? prefixKey(a) : dst}`;
};
