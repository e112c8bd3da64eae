import type { MdaState } from './mda-hop.js';

/** Holes a trace waits for, at most: each holds the trace until its slot, so a few. */
const HOLES_PER_TRACE = 4;
/** The longest a hole waits for its slot (a paced router's queue is long when every trace crosses it). */
const PATIENCE_MS = 20_000;

/**
 * After a multipath trace, comes back to its holes: a flow answered at one TTL and two TTLs on but not
 * between, past an interface that leads to a rate-limited one. Probed with the rest of its hop, it went out
 * with the hop's burst and found the router out of credit; the link it may show (into the router and out of
 * it) is one no other trace of this destination can show when the router stands just before the destination.
 * One flow per (TTL, before, after) whose link the worker has not seen yet waits for its slot, however long
 * the queue up to PATIENCE_MS, instead of going now and being lost again.
 */
export async function fillHoles(s: MdaState): Promise<void> {
  const gate = s.responders;
  if (!gate) return;
  const holes = new Map<string, { ttl: number; flow: number; prev: string }>();
  for (let ttl = 2; ttl < s.ttls; ttl++) {
    const before = s.at(ttl - 1);
    const after = s.at(ttl + 1);
    for (const [flow, reply] of s.at(ttl)) {
      const p = before.get(flow)?.from;
      const x = after.get(flow)?.from;
      if (reply !== null || p === undefined || x === undefined || p === x) continue;
      const key = `${ttl}\u0000${p}\u0000${x}`;
      if (!holes.has(key) && gate.mayLink(p, x)) holes.set(key, { ttl, flow, prev: p });
    }
  }
  await Promise.all(
    [...holes.values()].slice(0, HOLES_PER_TRACE).map((h) => s.probeWhenDue(h.flow, h.ttl, h.prev, PATIENCE_MS)),
  );
}
