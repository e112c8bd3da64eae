import { RR_MAX_SLOTS } from '../probe/ip-options.js';
import type { AliasResult } from '../results/result-schema.js';
import type { AliasEvidence, AliasMethod } from './alias-evidence-types.js';

const TIME_EXCEEDED = 11;
const ECHO_REPLY = 0;
/**
 * Ally: the largest step between consecutive IP-IDs of one shared counter (Spring et al. use 200 over a
 * few milliseconds; ours are paced, so allow more). Two unrelated 16-bit counters land this close on every
 * one of several steps with a probability far below 1e-6.
 */
const ALLY_MAX_STEP = 1_000;
const ALLY_MIN_SAMPLES = 3;

/**
 * What an `alias` result says about pairs of addresses. Only evidence the tests really support:
 * - DisCarte: the inbound address of the router at TTL k (the source of its time exceeded) and the address
 *   it stamped in the record-route option as it forwarded the probe, read from a later TTL's list.
 * - Timestamps: alias when both directions ([A,B] to A, [B,A] to B) were stamped twice (one direction alone
 *   could be B's router on the return path stamping); distinct when A stamped and B did not.
 * - Mercator and Ally only ever say alias: Linux answers from the probed address and keeps IP-ID counters
 *   per destination, so their silence proves nothing.
 */
export function aliasEvidence(result: AliasResult): AliasEvidence[] {
  const out = new Map<string, AliasEvidence>();
  const add = (a: string, b: string, method: AliasMethod, verdict: AliasEvidence['verdict']) => {
    if (a === b) return;
    const [x, y] = compareAddresses(a, b) < 0 ? [a, b] : [b, a];
    out.set(`${x} ${y} ${method} ${verdict}`, { a: x, b: y, method, verdict });
  };
  for (const [a, b] of discartePairs(result)) add(a, b, 'discarte', 'alias');
  for (const { a, b, verdict } of timestampVerdicts(result)) add(a, b, 'timestamp', verdict);
  for (const m of result.mercator) if (m.from && m.from !== m.address) add(m.address, m.from, 'mercator', 'alias');
  for (const s of result.ipid) if (sharedCounter(s)) add(s.a, s.b, 'ally', 'alias');
  return [...out.values()];
}

interface RrHop {
  ttl: number;
  from: string;
  /** The forward part of the list: for the destination's reply, cut after its own first stamp. */
  recorded: string[];
}

/**
 * Router k's own stamp as it forwarded the probe sits at position p_k of every later list. Linux stamps at
 * input, before the TTL check, so the list quoted by the router where the probe expired ends with that
 * router's own address (its route back to us, which is the error's source): p_k = len - 1. A router that
 * stamps only when forwarding quotes the list without it: p_k = len. A later list is used only when it agrees
 * on the first p_k entries and grew by exactly one entry per TTL in between (every router stamped once), so
 * a silent TTL between is bridged by position, and a router that did not stamp, or a change of path, gives
 * no pair at all.
 */
export function discartePairs(result: AliasResult): Array<[string, string]> {
  const hops: RrHop[] = [];
  const fromOf = new Map<string, number>();
  for (const h of [...result.record_route].sort((x, y) => x.ttl - y.ttl)) {
    if (!h.from) continue;
    if (h.from === result.target) {
      if (h.icmp_type !== ECHO_REPLY) continue;
      const own = h.recorded.indexOf(result.target);
      hops.push({ ttl: h.ttl, from: h.from, recorded: own >= 0 ? h.recorded.slice(0, own + 1) : h.recorded });
      break;
    }
    if (h.icmp_type !== TIME_EXCEEDED) continue;
    hops.push({ ttl: h.ttl, from: h.from, recorded: h.recorded });
    fromOf.set(h.from, h.ttl);
  }
  const pairs: Array<[string, string]> = [];
  hops.forEach((hop, i) => {
    if (hop.from === result.target || hop.recorded.length === 0) return;
    const p = hop.recorded.at(-1) === hop.from ? hop.recorded.length - 1 : hop.recorded.length;
    const later = hops.slice(i + 1).find((l) => l.recorded.length > p);
    if (!later || !samePrefix(hop.recorded, later.recorded, p)) return;
    const expected = hop.recorded.length + (later.ttl - hop.ttl);
    const grewByOnePerTtl =
      later.recorded.length === expected || (later.recorded.length === RR_MAX_SLOTS && expected >= RR_MAX_SLOTS);
    if (!grewByOnePerTtl) return;
    const stamped = later.recorded[p]!;
    const elsewhere = fromOf.get(stamped);
    if (stamped === result.target || (elsewhere !== undefined && elsewhere !== hop.ttl)) return;
    pairs.push([hop.from, stamped]);
  });
  return pairs;
}

const samePrefix = (a: string[], b: string[], n: number) => a.slice(0, n).every((x, i) => b[i] === x);

type Outcome = 'both' | 'first-only';

export function timestampVerdicts(
  result: AliasResult,
): Array<{ a: string; b: string; verdict: AliasEvidence['verdict'] }> {
  // Per ordered pair (probed address, second address): what the tests saw.
  const seen = new Map<string, Set<Outcome>>();
  for (const t of result.timestamps) {
    const second = t.prespecified[1];
    if (t.prespecified[0] !== t.address || second === undefined || second === t.address || !t.stamped?.[0]) continue;
    const key = `${t.address} ${second}`;
    const outcomes = seen.get(key) ?? new Set<Outcome>();
    outcomes.add(t.stamped[1] ? 'both' : 'first-only');
    seen.set(key, outcomes);
  }
  const verdicts: Array<{ a: string; b: string; verdict: AliasEvidence['verdict'] }> = [];
  const done = new Set<string>();
  for (const key of seen.keys()) {
    const [a, b] = key.split(' ') as [string, string];
    const pair = compareAddresses(a, b) < 0 ? `${a} ${b}` : `${b} ${a}`;
    if (done.has(pair)) continue;
    done.add(pair);
    const forward = seen.get(`${a} ${b}`) ?? new Set();
    const backward = seen.get(`${b} ${a}`) ?? new Set();
    if (forward.has('first-only') || backward.has('first-only')) verdicts.push({ a, b, verdict: 'distinct' });
    else if (forward.has('both') && backward.has('both')) verdicts.push({ a, b, verdict: 'alias' });
  }
  return verdicts;
}

/** Ally: the IP-IDs of both addresses, in the order received, form one slowly increasing sequence. */
export function sharedCounter(series: AliasResult['ipid'][number]): boolean {
  const answered = series.samples.filter(
    (s): s is { address: string; ipid: number } =>
      s.ipid !== null && (s.address === series.a || s.address === series.b),
  );
  const count = (addr: string) => answered.filter((s) => s.address === addr).length;
  if (count(series.a) < ALLY_MIN_SAMPLES || count(series.b) < ALLY_MIN_SAMPLES) return false;
  for (let i = 1; i < answered.length; i++) {
    const step = (answered[i]!.ipid - answered[i - 1]!.ipid + 65_536) % 65_536;
    if (step === 0 || step > ALLY_MAX_STEP) return false;
  }
  return true;
}

/** IPv4 addresses by value (as PostgreSQL's inet orders them), anything else by text. */
export function compareAddresses(a: string, b: string): number {
  const va = ipv4Value(a);
  const vb = ipv4Value(b);
  if (va !== undefined && vb !== undefined) return va - vb;
  return a < b ? -1 : a > b ? 1 : 0;
}

function ipv4Value(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) return undefined;
    v = v * 256 + n;
  }
  return v;
}
