import type { AliasResult } from '../results/result-schema.js';

type Pair = [string, string];
type Hops = AliasResult['record_route'];

const pairKey = (a: string, b: string) => (a < b ? `${a} ${b}` : `${b} ${a}`);

/** Collects pairs once each, never a self-pair nor one with the target (a host, not a router to resolve). */
function pairSet(target: string, initial: Pair[] = []) {
  const seen = new Set(initial.map(([a, b]) => pairKey(a, b)));
  const out: Pair[] = [];
  const add = (a: string | null | undefined, b: string | null | undefined) => {
    if (!a || !b || a === b || a === target || b === target || seen.has(pairKey(a, b))) return;
    seen.add(pairKey(a, b));
    out.push([a, b]);
  };
  return { out, add };
}

/**
 * Pairs worth a timestamp and Ally test that DisCarte alone cannot settle: a router whose own stamp is not
 * the error's source (its route back to us leaves by another interface, as with ECMP) stamps an address that
 * is likely its own, and its outbound stamp is then in the next list where its own stamp was.
 */
export function withLooseCandidates(strict: Pair[], hops: Hops, target: string): Pair[] {
  const { out, add } = pairSet(target, strict);
  hops.forEach((h, i) => {
    const next = hops[i + 1];
    if (!h.from || h.from === target || h.icmp_type !== 11 || h.recorded.length === 0) return;
    add(h.from, h.recorded.at(-1));
    if (next?.ttl === h.ttl + 1 && next.recorded.length === h.recorded.length + 1)
      add(h.from, next.recorded[h.recorded.length - 1]);
  });
  return [...strict, ...out];
}

/**
 * The other address of the point-to-point link `address` is likely on: its /30 mate (.1 and .2 of four), or
 * its /31 mate (RFC 3021) for the addresses a /30 could not give an interface. Not the /31 mate of a /30
 * host address: that is the /30's network or broadcast address, which some routers answer as their own.
 */
export function linkMate(address: string): string | undefined {
  const parts = address.split('.');
  const last = Number(parts[3]);
  if (parts.length !== 4 || !Number.isInteger(last)) return undefined;
  const mate = last % 4 === 1 ? last + 1 : last % 4 === 2 ? last - 1 : last ^ 1;
  return `${parts.slice(0, 3).join('.')}.${mate}`;
}

/**
 * Timestamp candidates for routers DisCarte could not pair, from the point-to-point link convention (as
 * APAR and kapar infer): the address facing router k on the link to router k+1 is the mate of k+1's inbound
 * address (beyond the record route's nine slots), and a silent router's inbound address is the mate of the
 * outbound stamp before its own. Only a test both ways can make them evidence.
 */
export function mateCandidates(strict: Pair[], hops: Hops, target: string): Pair[] {
  const paired = new Set(strict.map(([from]) => from));
  const { out, add } = pairSet(target, strict);
  const byTtl = new Map(hops.map((h) => [h.ttl, h]));
  for (const h of hops) {
    const next = byTtl.get(h.ttl + 1);
    if (
      h.from &&
      h.from !== target &&
      h.icmp_type === 11 &&
      !paired.has(h.from) &&
      next?.from &&
      next.icmp_type === 11
    ) {
      add(h.from, linkMate(next.from));
    }
    const before = byTtl.get(h.ttl - 1);
    if (h.from || !before?.from || !next?.from) continue;
    // A silent TTL: the stamp after the previous router's outbound one is the silent router's own.
    const previousOut = strict.find(([from]) => from === before.from)?.[1];
    const at = previousOut ? next.recorded.indexOf(previousOut) : -1;
    const silentOut = at >= 0 ? next.recorded[at + 1] : undefined;
    if (silentOut && silentOut !== next.from) add(linkMate(previousOut!), silentOut);
  }
  return out;
}
