import type { Pool } from '../db/create-pool.js';
import { int8 } from '../db/int8.js';
import { resolveRouters } from '../aliases/resolve-routers.js';
import { resolvedMap, scoreAliases, type AliasScore } from './alias-score.js';
import type { WorkerSummary } from './lab-run.js';
import {
  allTrueLinks,
  linkNodes,
  linksByAs,
  rateLimitedEnds,
  reachableTruth,
  scoreMap,
  type AsPairCount,
} from './lab-report.js';
import type { Lab } from './open-lab.js';
import { scoreRouteChanges, truthWith, type ChangeScore, type LabChange, type RouteRef } from './route-change-score.js';

/** What `hopmap lab run` records about a run, for `hopmap lab report` (run.json in the run's directory). */
export interface RunRecord {
  lab: string;
  database: string;
  vantages: string[];
  seeds: string[];
  startedAt: string;
  /** When the map last grew. */
  convergedAt: string;
  /** When the run saw that it had stopped growing. */
  detectedAt: string;
  workers: WorkerSummary[];
  /** Links taken down or up while the run went on (`LabRun.setLink`). */
  changes?: LabChange[];
}

export interface ReportedLink {
  near: string;
  far: string;
  nearNode?: string;
  farNode?: string;
}

export interface LabReport {
  lab: string;
  links: { discovered: number; true: number; reachable: number; precision: number; recall: number };
  /** With the lab node of each end, where the address is one of the lab's. */
  falseLinks: Array<ReportedLink>;
  /** With the lab node of each end, and the rate-limited routers (`icmp: ratelimited…`) at either end, where there are any. */
  missedLinks: Array<ReportedLink & { rateLimited?: string[] }>;
  byAs: AsPairCount[];
  hops: { known: number; measured: number };
  results: { stored: number; byType: Record<string, number>; duplicateIds: number; producedByWorkers: number | null };
  probesSent: number;
  secondsToConverge: number | null;
  /** Router resolution from the workers' alias measurements: alias pairs and router links against the lab. */
  aliases: AliasScore;
  /** Per change made to the lab during the run: the routes that had to move, and when each was seen moving. */
  routeChanges?: ChangeScore[];
}

/** Scores the run's database against the lab's truth and adds what the run itself recorded. */
export async function labReport(pool: Pool, lab: Lab, record: RunRecord): Promise<LabReport> {
  // Resolve once more, so the score covers all the evidence the run gathered rather than the last cron tick's;
  // the same evidence gives the same routers, so `hopmap lab report` reads the same figures later.
  await resolveRouters(pool);
  const [links, results, dup, hops] = await Promise.all([
    pool.query<{ near: string; far: string }>(
      'select host(near) as near, host(far) as far from links order by near, far',
    ),
    pool.query<{ type: string; n: number; probes: string | null }>(
      `select type, count(*)::int as n,
              sum(case when type = 'ping' then (body->>'sent')::int else (body->>'probes_sent')::int end)::text as probes
         from measurements.results group by type`,
    ),
    pool.query<{ n: number }>(
      'select count(*)::int as n from (select id from measurements.results group by id having count(*) > 1) d',
    ),
    pool.query<{ known: number; measured: number }>(
      `select count(*)::int as known, count(*) filter (where exists (select 1 from measurements.results r where r.target = h.address))::int as measured from hops h`,
    ),
  ]);
  const reachable = reachableTruth(lab, record.vantages, record.seeds);
  const states = (record.changes ?? []).map((c) => truthWith(lab.plan, c.downAfter));
  const score = scoreMap(reachable, allTrueLinks(lab, record.vantages, states), links.rows);
  const byType = Object.fromEntries(results.rows.map((r) => [r.type, r.n]));
  return {
    lab: lab.name,
    links: {
      discovered: score.discovered,
      true: score.trueDiscovered,
      reachable: reachable.links.size,
      precision: score.precision,
      recall: score.recall,
    },
    falseLinks: score.falseLinks.map((l) => ({ ...l, ...linkNodes(lab, l) })),
    missedLinks: score.missed.map((l) => ({ ...l, ...linkNodes(lab, l), ...rateLimitedEnds(lab, l) })),
    byAs: linksByAs(lab, links.rows),
    hops: hops.rows[0]!,
    results: {
      stored: results.rows.reduce((n, r) => n + r.n, 0),
      byType,
      duplicateIds: dup.rows[0]!.n,
      producedByWorkers: record.workers.length ? record.workers.reduce((n, w) => n + w.produced, 0) : null,
    },
    probesSent: results.rows.reduce((n, r) => n + (int8(r.probes) ?? 0), 0),
    secondsToConverge: record.convergedAt
      ? (Date.parse(record.convergedAt) - Date.parse(record.startedAt)) / 1000
      : null,
    aliases: scoreAliases(lab, await resolvedMap(pool)),
    ...(record.changes?.length && { routeChanges: await scoreRouteChanges(pool, lab.plan, record.changes) }),
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function formatReport(r: LabReport): string {
  const lines = [
    `lab ${r.lab}`,
    `  links      ${r.links.discovered} discovered, ${r.links.true} true, ${r.links.reachable} reachable from the vantages`,
    `  precision  ${pct(r.links.precision)}   (discovered links that exist)`,
    `  recall     ${pct(r.links.recall)}   (reachable links discovered)`,
    `  hops       ${r.hops.known} discovered, ${r.hops.measured} fed back and measured`,
    `  results    ${r.results.stored} stored (${Object.entries(r.results.byType)
      .map(([t, n]) => `${n} ${t}`)
      .join(', ')}), ` +
      `${r.results.duplicateIds} duplicated${r.results.producedByWorkers === null ? '' : `, ${r.results.producedByWorkers} produced by the workers`}`,
    `  probes     ${r.probesSent} sent`,
    `  converged  ${r.secondsToConverge === null ? 'no' : `after ${r.secondsToConverge.toFixed(1)} s`}`,
    `  routers    ${r.aliases.routers} of more than one interface, holding ${r.aliases.interfaces} interfaces`,
    `  aliases    precision ${pct(r.aliases.pairs.precision)}, recall ${pct(r.aliases.pairs.recall)}   (${r.aliases.pairs.correct} of ${r.aliases.pairs.inferred} pairs true, of ${r.aliases.pairs.truth} known-address pairs on one router)`,
    `  router links precision ${pct(r.aliases.routerLinks.precision)}, recall ${pct(r.aliases.routerLinks.recall)}   (${r.aliases.routerLinks.correct} of ${r.aliases.routerLinks.inferred} true; ${r.aliases.routerLinks.truth} node adjacencies known)`,
    '',
    '  links by network (AS of near end -> AS of far end)',
    ...r.byAs.map((a) => `    AS${a.nearAs.padEnd(8)} -> AS${a.farAs.padEnd(8)} ${a.links}`),
  ];
  if (r.falseLinks.length) lines.push('', '  false links', ...r.falseLinks.map((l) => `    ${linkText(l)}`));
  if (r.missedLinks.length) {
    const limited = r.missedLinks.filter((l) => l.rateLimited);
    lines.push(
      '',
      `  missed links (${limited.length} of ${r.missedLinks.length} at a rate-limited router)`,
      ...r.missedLinks
        .slice(0, 50)
        .map((l) => `    ${linkText(l)}${l.rateLimited ? `   rate-limited: ${l.rateLimited.join(', ')}` : ''}`),
    );
  }
  if (r.aliases.falsePairs.length)
    lines.push('', '  false aliases', ...r.aliases.falsePairs.slice(0, 50).map(([a, b]) => `    ${a} = ${b}`));
  if (r.aliases.missedAdjacencies.length)
    lines.push(
      '',
      '  router adjacencies no router link shows',
      ...r.aliases.missedAdjacencies.map(([a, b]) => `    ${a} - ${b}`),
    );
  if (r.routeChanges?.length)
    lines.push('', '  route changes (changes made to the lab during the run)', ...changeLines(r));
  return `${lines.join('\n')}\n`;
}

function changeLines(r: LabReport): string[] {
  const route = (x: RouteRef) =>
    `${x.worker} -> ${x.target} (${x.method}${x.flow === -1 ? ' multipath' : ` flow ${x.flow}`})`;
  return (r.routeChanges ?? []).flatMap((c) => {
    const untrue = c.detected.filter((d) => !d.trueBefore || !d.trueAfter);
    const delay = c.delaySeconds
      ? `detection delay median ${c.delaySeconds.median.toFixed(1)} s, max ${c.delaySeconds.max.toFixed(1)} s`
      : 'no change recorded';
    return [
      `    ${c.at} ${c.change}: ${c.mustMove} of ${c.routes} routes had to move; ${c.detected.length} recorded a change (${delay}), ` +
        `${c.missed.length} missed, ${c.falseChanges.length} false, ${untrue.length} with an untrue path; ${c.unreachable} unreachable since`,
      ...c.missed.slice(0, 20).map((m) => `      missed ${route(m)}`),
      ...c.falseChanges.slice(0, 20).map((m) => `      false  ${route(m)}`),
      ...untrue.slice(0, 20).map((m) => `      untrue ${route(m)} (${m.trueBefore ? 'after' : 'before'})`),
    ];
  });
}

/** `198.18.0.105 (eb1) -> 198.18.0.122 (ea2)`: the addresses, and the lab's nodes where it knows them. */
function linkText(l: ReportedLink): string {
  const end = (address: string, node?: string) => (node === undefined ? address : `${address} (${node})`);
  return `${end(l.near, l.nearNode)} -> ${end(l.far, l.farNode)}`;
}
