/**
 * How well a run's route history followed the changes made to the lab while it ran (`LabRun.setLink`): per
 * change, which routes had to move, which recorded the move and how long after, which recorded a move that
 * did not happen.
 */
import type { Pool } from '../db/create-pool.js';
import { computeRoutes } from './compute-routes.js';
import { labTruth, type HopSequence, type LabTruth } from './lab-truth.js';
import type { LabPlan } from './plan-lab.js';
import { divergeTtl, unionPath, type RoutePath } from '../results/route-paths.js';

/** A change made to the lab during a run, as run.json keeps it. */
export interface LabChange {
  /** When the change began (the links went down or up). */
  at: string;
  /** The links (node pairs) it took down or brought up at once. */
  links: Array<[string, string]>;
  state: 'down' | 'up';
  /** Every link down once it was made (`linkKey` form). */
  downAfter: string[];
}

export interface RouteRef {
  worker: string;
  target: string;
  method: string;
  flow: number;
}

export interface DetectedChange extends RouteRef {
  /** From the lab change to the start of the first trace that showed the new path (measurement time). */
  delaySeconds: number;
  /** From the lab change to when the output recorded it. */
  recordedAfterSeconds: number;
  divergeTtl: number;
  /** The route's path before and after (as route history holds them now) are true paths of the lab then. */
  trueBefore: boolean;
  trueAfter: boolean;
}

export interface ChangeScore {
  at: string;
  change: string;
  /** Routes known when the change was made. */
  routes: number;
  /** Of those, routes whose path then is no true path after the change: each must record a change. */
  mustMove: number;
  detected: DetectedChange[];
  /** Routes that had to move and recorded no change. */
  missed: RouteRef[];
  /** Changes recorded on routes whose true paths the lab change did not touch. */
  falseChanges: RouteRef[];
  /** Routes whose target the change made unreachable (no path to record). */
  unreachable: number;
  delaySeconds: { median: number; max: number } | null;
}

interface SpanRow extends RouteRef {
  hops: string[][];
  reached: boolean;
  silent_ttls: number[];
}

interface ChangeRow extends RouteRef {
  diverge_ttl: number;
  after_first_seen_at: Date;
  detected_at: Date;
  before_hops: string[][];
  after_hops: string[][];
}

/**
 * A route's picture fits the lab's true paths: a single-flow picture holds, at every TTL it has an answer for,
 * the address of one true path there; a multipath picture holds only addresses some true path has at that TTL.
 */
export function fitsTruth(hops: string[][], truth: HopSequence[], multipath: boolean): boolean {
  if (multipath)
    return (
      hops.length <= Math.max(0, ...truth.map((s) => s.length)) &&
      hops.every((addrs, i) => addrs.every((a) => truth.some((s) => s[i] === a)))
    );
  return truth.some(
    (seq) =>
      hops.length <= seq.length &&
      hops.every((addrs, i) => addrs.length === 0 || (addrs.length === 1 && addrs[0] === seq[i])),
  );
}

/**
 * Whether a trace on any of `truth`'s paths would show a route change against `picture`, by route history's own
 * rule (src/results/route-paths.ts): a path that differs only where a router is silent looks the same to
 * traceroute, so no change can be asked of it.
 */
export function mustMove(picture: RoutePath, truth: HopSequence[], multipath: boolean): boolean {
  const asPath = (seqs: HopSequence[]): RoutePath =>
    seqs
      .map((seq): RoutePath => ({ hops: seq.map((a) => (a === null ? [] : [a])), reached: true }))
      .reduce((a, b) => unionPath(a, b));
  if (multipath) return divergeTtl(picture, asPath(truth), 'overlap') !== null;
  return truth.every((seq) => divergeTtl(picture, asPath([seq]), 'exact') !== null);
}

const sameTruth = (a: HopSequence[], b: HopSequence[]) => JSON.stringify(a) === JSON.stringify(b);
const routeKey = (r: RouteRef) => `${r.worker}|${r.target}|${r.method}|${r.flow}`;

/** The lab's truth with `down` (`linkKey` form) down and every route converged around them. */
export function truthWith(plan: LabPlan, down: readonly string[]): LabTruth {
  const set = new Set(down);
  return labTruth(plan, computeRoutes(plan, set), set);
}

/** Scores each change against the route history in the run's database. */
export async function scoreRouteChanges(pool: Pool, plan: LabPlan, changes: LabChange[]): Promise<ChangeScore[]> {
  const scores: ChangeScore[] = [];
  let before = truthWith(plan, []);
  for (const [i, change] of changes.entries()) {
    const after = truthWith(plan, change.downAfter);
    const at = new Date(change.at);
    const until = changes[i + 1] ? new Date(changes[i + 1]!.at) : null;
    const spans = await pool.query<SpanRow>(
      `select s.worker, host(s.target) as target, s.method, s.flow, p.hops, p.reached, p.silent_ttls
         from (select distinct on (worker, target, method, flow) * from route_spans
                where first_seen_at < $1 order by worker, target, method, flow, first_seen_at desc, id desc) s
         join paths p on p.id = s.path_id`,
      [at],
    );
    // Recorded after the lab change, by a trace begun before the next one.
    const recorded = await pool.query<ChangeRow>(
      `select c.worker, host(c.target) as target, c.method, c.flow, c.diverge_ttl, c.after_first_seen_at, c.detected_at,
              bp.hops as before_hops, ap.hops as after_hops
         from route_changes c
         join route_spans bs on bs.id = c.before_span_id join paths bp on bp.id = bs.path_id
         join route_spans as_ on as_.id = c.after_span_id join paths ap on ap.id = as_.path_id
        where c.detected_at >= $1 and ($2::timestamptz is null or c.after_first_seen_at < $2)
        order by c.id`,
      [at, until],
    );
    const byRoute = new Map<string, ChangeRow[]>();
    for (const c of recorded.rows) byRoute.set(routeKey(c), [...(byRoute.get(routeKey(c)) ?? []), c]);

    const score: ChangeScore = {
      at: change.at,
      change: `${change.links.map(([a, b]) => `${a} - ${b}`).join(', ')} ${change.state}`,
      routes: spans.rows.length,
      mustMove: 0,
      detected: [],
      missed: [],
      falseChanges: [],
      unreachable: 0,
      delaySeconds: null,
    };
    for (const span of spans.rows) {
      const ref: RouteRef = { worker: span.worker, target: span.target, method: span.method, flow: span.flow };
      const multipath = ref.flow === -1;
      if (!plan.nodes.has(ref.worker) || before.nodeOf(ref.target) === undefined) continue;
      const was = before.truePaths(ref.worker, ref.target, { unrouted: 'none' });
      const now = after.truePaths(ref.worker, ref.target, { unrouted: 'none' });
      const seen = byRoute.get(routeKey(ref)) ?? [];
      if (now.length === 0) {
        score.unreachable++;
        continue;
      }
      if (sameTruth(was, now)) {
        if (seen.length > 0) score.falseChanges.push(ref);
        continue;
      }
      const moves = mustMove({ hops: span.hops, reached: span.reached, silentTtls: span.silent_ttls }, now, multipath);
      if (moves) score.mustMove++;
      const first = seen[0];
      const last = seen.at(-1);
      if (!first || !last) {
        if (moves) score.missed.push(ref);
        continue;
      }
      score.detected.push({
        ...ref,
        delaySeconds: Math.max(0, (first.after_first_seen_at.getTime() - at.getTime()) / 1000),
        recordedAfterSeconds: (first.detected_at.getTime() - at.getTime()) / 1000,
        divergeTtl: first.diverge_ttl,
        trueBefore: fitsTruth(first.before_hops, was, multipath),
        trueAfter: fitsTruth(last.after_hops, now, multipath),
      });
    }
    const delays = score.detected.map((d) => d.delaySeconds).sort((a, b) => a - b);
    if (delays.length > 0)
      score.delaySeconds = { median: delays[Math.floor((delays.length - 1) / 2)]!, max: delays.at(-1)! };
    scores.push(score);
    before = after;
  }
  return scores;
}

/**
 * Results that observed the whole path: a multipath trace, or a traceroute that used no stop-set entry (nothing
 * saved, not cut short, probed from TTL 1).
 */
const FULL_TRACE = `(x.type = 'multipath' or (x.type = 'traceroute' and (x.body->>'probes_saved')::int = 0
  and x.body->>'stop' <> 'stop-set' and (x.body->'hops'->0->>'ttl')::int = 1))`;

/** (worker, target) routes known at `at` and routed in `truth`, with no full trace begun since. */
export async function routesNotTracedInFullSince(pool: Pool, truth: LabTruth, at: Date): Promise<RouteRef[]> {
  const { rows } = await pool.query<RouteRef>(
    `select distinct s.worker, host(s.target) as target, s.method, s.flow from route_spans s
      where s.first_seen_at < $1
        and not exists (select 1 from measurements.results x where x.worker = s.worker and x.target = s.target
                          and x.measured_at >= $1 and ${FULL_TRACE})`,
    [at],
  );
  return rows.filter(
    (r) => truth.nodeOf(r.target) !== undefined && truth.truePaths(r.worker, r.target, { unrouted: 'none' }).length > 0,
  );
}

/** The first full trace of each route since `at` began no earlier than its first change since `at`. */
export async function changesLaterThanFullTrace(pool: Pool, at: Date): Promise<RouteRef[]> {
  const { rows } = await pool.query<RouteRef>(
    `select c.worker, host(c.target) as target, c.method, c.flow from route_changes c
      where c.detected_at >= $1
        and c.id = (select min(id) from route_changes c2
                     where (c2.worker, c2.target, c2.method, c2.flow) = (c.worker, c.target, c.method, c.flow) and c2.detected_at >= $1)
        and c.after_first_seen_at > (select min(x.measured_at) from measurements.results x
                                      where x.worker = c.worker and x.target = c.target and x.measured_at >= $1 and ${FULL_TRACE})`,
    [at],
  );
  return rows;
}
