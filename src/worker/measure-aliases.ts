import { randomInt, randomUUID } from 'node:crypto';
import { discartePairs } from '../aliases/alias-evidence.js';
import { mateCandidates, withLooseCandidates } from './alias-candidates.js';
import type { AliasProber } from '../probe/alias-probes.js';
import {
  RESULT_FORMAT,
  type AliasResult,
  type MultipathResultRecord,
  type Result,
  type TracerouteResult,
} from '../results/result-schema.js';

export interface AliasMeasureOptions {
  prober: AliasProber;
  workerId: string;
  lease: string | null;
  /** Every probe takes a send slot first: the worker's packets-per-second cap. */
  pace: () => Promise<void>;
  timeoutMs: number;
  maxHops: number;
  onProbe?: (answered: boolean) => void;
}

/** What the alias measurement builds on: the trace just made toward the target. */
export interface TracedPath {
  /** The ICMP checksum of the traceroute's Paris flow, when it was an ICMP trace (else a new flow is drawn). */
  flow?: number;
  /** The last TTL the trace probed. */
  lastTtl: number;
  /** Addresses that answered the trace. */
  addresses: string[];
}

/** Ally: echo rounds (one to each address) per candidate pair; three samples each is the evidence floor. */
const ALLY_ROUNDS = 3;
/** Past the trace's last TTL, record-route probes stop after this many silent TTLs in a row. */
const EXTRA_TTLS = 3;
/** A bound on Mercator probes per measurement, whatever the path length. */
const MERCATOR_MAX = 48;

/**
 * One alias measurement of the routers toward `target` (docs/probing.md): record route on every TTL of the
 * Paris flow, then prespecified timestamps, Mercator and Ally on what it found. Every probe is paced.
 */
export async function measureAliases(
  target: string,
  path: TracedPath,
  opts: AliasMeasureOptions,
): Promise<AliasResult> {
  const startedAt = new Date().toISOString();
  const flow = path.flow ?? randomInt(1, 0xffff);
  let sent = 0;
  const probe = async <T>(send: () => Promise<T>, answered: (r: T) => boolean): Promise<T> => {
    await opts.pace();
    sent++;
    const r = await send();
    opts.onProbe?.(answered(r));
    return r;
  };
  const p = opts.prober;
  const t = opts.timeoutMs;

  // Record route on each TTL of the path at once (paced), then on past its end until the destination answers.
  const rr = (ttl: number) =>
    probe(
      () => p.recordRoute(target, ttl, flow, t),
      (r) => r.from !== null,
    ).then((r) => ({
      ttl,
      from: r.from,
      ...(r.icmpType !== undefined ? { icmp_type: r.icmpType } : {}),
      recorded: r.recorded,
    }));
  const lastTtl = Math.min(Math.max(path.lastTtl, 1), opts.maxHops);
  const recordRoute: AliasResult['record_route'] = await Promise.all(
    Array.from({ length: lastTtl }, (_, i) => rr(i + 1)),
  );
  const reachedAt = () => recordRoute.find((h) => h.from === target);
  for (let ttl = lastTtl + 1, silent = 0; !reachedAt() && ttl <= opts.maxHops && silent < EXTRA_TTLS; ttl++) {
    const h = await rr(ttl);
    recordRoute.push(h);
    silent = h.from ? 0 : silent + 1;
  }
  const reached = reachedAt();
  const kept = reached ? recordRoute.filter((h) => h.ttl <= reached.ttl) : recordRoute;

  const result: AliasResult = {
    format: RESULT_FORMAT,
    id: randomUUID(),
    type: 'alias',
    worker: opts.workerId,
    lease: opts.lease,
    target,
    started_at: startedAt,
    finished_at: startedAt,
    flow,
    probes_sent: 0,
    record_route: kept,
    timestamps: [],
    mercator: [],
    ipid: [],
  };
  const strict = discartePairs(result);
  const candidates = withLooseCandidates(strict, kept, target);

  // Timestamps: each candidate both ways (one way alone cannot rule out the return path), and each pair of
  // consecutive routers [nearer, farther] to the nearer one, which tells them apart when both stamp.
  const tests = new Map<string, [string, string]>();
  for (const [a, b] of [...candidates, ...mateCandidates(strict, kept, target)]) {
    tests.set(`${a} ${b}`, [a, b]);
    tests.set(`${b} ${a}`, [b, a]);
  }
  const routers = kept.filter((h) => h.from && h.from !== target && h.icmp_type === 11);
  for (let i = 0; i + 1 < routers.length; i++) {
    const [near, far] = [routers[i]!, routers[i + 1]!];
    if (far.ttl === near.ttl + 1 && near.from !== far.from)
      tests.set(`${near.from} ${far.from}`, [near.from!, far.from!]);
  }
  result.timestamps = await Promise.all(
    [...tests.values()].map(async ([a, b]) => ({
      address: a,
      prespecified: [a, b],
      stamped: await probe(
        () => p.timestamps(a, [a, b], t),
        (s) => s !== null,
      ),
    })),
  );

  // Mercator on every router address seen: the trace's, the record-route answers', and the stamps (the
  // first stamp is our own address).
  const addresses = new Set<string>();
  for (const a of path.addresses) addresses.add(a);
  for (const h of kept) {
    if (h.from) addresses.add(h.from);
    for (const a of h.recorded.slice(1)) addresses.add(a);
  }
  for (const h of kept) if (h.recorded[0]) addresses.delete(h.recorded[0]);
  addresses.delete(target);
  result.mercator = await Promise.all(
    [...addresses].slice(0, MERCATOR_MAX).map(async (address) => ({
      address,
      from: await probe(
        () => p.mercator(address, t),
        (f) => f !== null,
      ),
    })),
  );

  // Ally: alternate echoes to each candidate pair, one at a time so the IP-IDs come back in sending order.
  for (const [a, b] of candidates) {
    const samples: AliasResult['ipid'][number]['samples'] = [];
    for (let round = 0; round < ALLY_ROUNDS; round++) {
      for (const address of [a, b])
        samples.push({
          address,
          ipid: await probe(
            () => p.ipId(address, t),
            (id) => id !== null,
          ),
        });
    }
    result.ipid.push({ a, b, samples });
  }

  return { ...result, probes_sent: sent, finished_at: new Date().toISOString() };
}

/** The path a target's results traced: the ICMP Paris trace's flow and answers, or a multipath trace's length. */
export function tracedPath(results: readonly Result[]): TracedPath {
  const traced = results.findLast((r): r is TracerouteResult => r.type === 'traceroute');
  if (traced) {
    const addresses = traced.hops.flatMap((h) => h.probes.flatMap((p) => (p ? [p.from] : [])));
    return {
      flow: traced.method === 'icmp-paris' ? traced.flow : undefined,
      lastTtl: traced.hops.at(-1)?.ttl ?? 1,
      addresses,
    };
  }
  const multipath = results.findLast((r): r is MultipathResultRecord => r.type === 'multipath');
  return { lastTtl: multipath?.hops.at(-1)?.ttl ?? 1, addresses: multipath?.hops.flatMap((h) => h.interfaces) ?? [] };
}

/** One traced target in `every` gets an alias measurement (0: none). */
export function aliasSchedule(every: number): () => boolean {
  let traced = 0;
  return () => every > 0 && traced++ % every === 0;
}
