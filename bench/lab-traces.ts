import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchContext, Figure } from './bench-case.js';
import { runInNamespace } from './lab-for-bench.js';
import type { TraceArgs, TraceStats } from './trace-in-namespace.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./trace-in-namespace.ts', import.meta.url));
export const SCAMPER = '/usr/bin/scamper';

/** hopmap's tracer in namespace `ns` (bench/trace-in-namespace.ts), its counts and the links it found. */
export async function hopmapTraces(ctx: BenchContext, ns: string, args: TraceArgs): Promise<TraceStats> {
  const run = await runInNamespace(ns, process.execPath, ['--import', 'tsx', SCRIPT, JSON.stringify(args)], {
    signal: ctx.signal,
    cwd: REPO,
    timeoutMs: 600_000,
  });
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  if (run.code !== 0 || !line.startsWith('{'))
    throw new Error(`bench/trace-in-namespace.ts failed (exit ${run.code}): ${(run.stderr || run.stdout).slice(-800)}`);
  return JSON.parse(line) as TraceStats;
}

export interface ScamperStats extends TraceStats {
  /** Links that scamper's tracelb reports across unanswered hops ('*'), which hopmap does not count as links. */
  bridged: number;
  /** The scamper command, for the notes. */
  command: string;
}

/**
 * Debian's scamper in namespace `ns`: `command` (a trace or tracelb) on every target, `window` at a time, no
 * packet-rate cap that matters (-p 10000), JSON out; counted the way trace-in-namespace.ts counts hopmap's.
 */
export async function scamperTraces(
  ctx: BenchContext,
  ns: string,
  command: string,
  targets: string[],
  window: number,
): Promise<ScamperStats> {
  if (!existsSync(SCAMPER)) throw new Error(`${SCAMPER} is missing (Debian package scamper)`);
  const args = ['-O', 'json', '-p', '10000', '-w', String(window), '-c', command, '-i', ...targets];
  const run = await runInNamespace(ns, SCAMPER, args, { signal: ctx.signal, timeoutMs: 600_000 });
  if (run.code !== 0) throw new Error(`scamper ${args.join(' ')} failed (exit ${run.code}): ${run.stderr.slice(-800)}`);
  const links = new Set<string>();
  let probes = 0;
  let traces = 0;
  let bridged = 0;
  for (const line of run.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const o = JSON.parse(line) as ScamperTrace | ScamperTracelb | { type: string };
    if (o.type === 'trace') {
      const t = o as ScamperTrace;
      traces++;
      probes += t.probe_count;
      // The first answer at each TTL, as hopmap's count takes the first answering probe of a hop.
      const byTtl = new Map<number, string>();
      for (const h of t.hops ?? []) if (!byTtl.has(h.probe_ttl)) byTtl.set(h.probe_ttl, h.addr);
      for (const [ttl, near] of byTtl) {
        const far = byTtl.get(ttl + 1);
        if (far && far !== near) links.add(`${near}>${far}`);
      }
    } else if (o.type === 'tracelb') {
      const t = o as ScamperTracelb;
      traces++;
      probes += t.probec;
      for (const node of t.nodes ?? []) {
        // scamper's JSON gives a node's links position by position: links[k][j] is the k-th hop of link j. A
        // link's hops are unanswered ('*') until its far end, so a direct link is a far end at position 0;
        // a '*' there starts a link across silent hops, which hopmap does not count as a link.
        for (const hop of node.links?.[0] ?? []) {
          if (hop.addr && hop.addr !== '*' && hop.addr !== node.addr) links.add(`${node.addr}>${hop.addr}`);
          else bridged++;
        }
      }
    }
  }
  if (traces !== targets.length)
    throw new Error(`scamper returned ${traces} traces for ${targets.length} targets: ${run.stderr.slice(-400)}`);
  return {
    traces,
    probes,
    saved: 0,
    links: [...links].sort(),
    seconds: run.ms / 1000,
    bridged,
    command: `scamper -p 10000 -w ${window} -c '${command}'`,
  };
}

interface ScamperTrace {
  type: 'trace';
  probe_count: number;
  hops?: Array<{ addr: string; probe_ttl: number }>;
}

interface ScamperTracelb {
  type: 'tracelb';
  probec: number;
  nodes?: Array<{ addr: string; links?: Array<Array<{ addr?: string }>> }>;
}

/**
 * Three rows per tool, scamper's first as the baselines: probes per target (lower is better), time per
 * target (wall-clock of the whole run ÷ targets, both tools tracing as many at once), links found.
 */
export function versusScamper(opts: {
  caseName: string;
  hopmapLabel: string;
  scamperLabel: string;
  hopmap: TraceStats;
  scamper: ScamperStats;
  truth?: number;
}): Figure[] {
  const { caseName, hopmap, scamper } = opts;
  const per = (s: TraceStats, n: number) => n / Math.max(1, s.traces);
  const linksDetail = (s: TraceStats) =>
    `${s.links.length} interface links${opts.truth ? ` (the lab has ${opts.truth} a trace can see)` : ''}`;
  const rows = (who: 'scamper' | 'hopmap', s: TraceStats, label: string): Figure[] => {
    const base = (what: string) => (who === 'hopmap' ? { baseline: `${caseName}/scamper-${what}` } : {});
    return [
      {
        id: `${caseName}/${who}-probes`,
        label: `probes per target, ${label}`,
        value: per(s, s.probes),
        unit: 'probes/target',
        better: 'lower',
        details: `${s.probes} probes for ${s.traces} targets`,
        ...base('probes'),
      },
      {
        id: `${caseName}/${who}-time`,
        label: `time per target, ${label}`,
        value: per(s, s.seconds),
        unit: 's/target',
        better: 'lower',
        details: `${s.seconds.toFixed(1)} s for ${s.traces} targets`,
        ...base('time'),
      },
      {
        id: `${caseName}/${who}-links`,
        label: `links found, ${label}`,
        value: s.links.length,
        unit: 'links',
        better: 'higher',
        details: linksDetail(s),
        data: { ...s },
        ...base('links'),
      },
    ];
  };
  const theirs = rows('scamper', scamper, opts.scamperLabel);
  const ours = rows('hopmap', hopmap, opts.hopmapLabel);
  return theirs.flatMap((f, i) => [f, ours[i]!]);
}
