import { fileURLToPath } from 'node:url';
import type { BenchContext, BenchCase, Figure } from '../bench-case.js';
import { withBenchLab } from '../lab-for-bench.js';
import { hopmapTraces, scamperTraces, type ScamperStats } from '../lab-traces.js';
import type { TraceArgs, TraceStats } from '../trace-in-namespace.js';

const NAME = 'ratelimited-scamper';
const TOPOLOGY = fileURLToPath(new URL('../../lab/diamond-ratelimited.yaml', import.meta.url));
const TARGETS = Array.from({ length: 20 }, (_, i) => `198.19.100.${i + 1}`);
const WAIT_S = 1;
/** r1 > r2, r2 > r3a, r2 > r3b, r3a > r4, r3b > r4: what a trace can see (r5 is silent). */
const REACHABLE = 5;

/**
 * hopmap against scamper on a diamond whose routers rate-limit their ICMP errors (Linux's default bucket on
 * one branch, one answer per 500 ms where the branches meet): probes per link found, and links found against
 * the links a trace can reach, for single-flow traces and for multipath.
 */
export const ratelimitedScamper: BenchCase = {
  name: NAME,
  async run(ctx) {
    return withBenchLab(ctx, NAME, TOPOLOGY, async (lab) => {
      const ns = lab.nsName('probe');
      const both = async (
        kind: string,
        scamperCommand: string,
        hopmapArgs: Omit<TraceArgs, 'targets'>,
      ): Promise<[ScamperStats, TraceStats]> => {
        // Each tool starts from routers with full credit: the other's probes a moment before would drain it.
        await settle(ctx);
        ctx.progress(`${NAME}: scamper ${scamperCommand}, ${TARGETS.length} targets`);
        const scamper = await scamperTraces(ctx, ns, scamperCommand, TARGETS, TARGETS.length);
        await settle(ctx);
        ctx.progress(`${NAME}: hopmap ${kind}, ${TARGETS.length} targets`);
        const hopmap = await hopmapTraces(ctx, ns, { targets: TARGETS, ...hopmapArgs });
        return [scamper, hopmap];
      };
      const [traceTheirs, traceOurs] = await both('icmp-paris traceroute', `trace -P icmp-paris -q 3 -w ${WAIT_S}`, {
        method: 'icmp-paris',
        stopSet: false,
        concurrency: TARGETS.length,
        timeoutMs: WAIT_S * 1000,
        budget: true,
      });
      const [lbTheirs, lbOurs] = await both('multipath udp-paris', `tracelb -P udp-sport -c 95 -w ${WAIT_S} -W 15`, {
        method: 'udp-paris',
        mode: 'multipath',
        stopSet: false,
        concurrency: TARGETS.length,
        timeoutMs: WAIT_S * 1000,
        budget: true,
      });
      const reachableId = `${NAME}/reachable`;
      return {
        figures: [
          {
            id: reachableId,
            label: 'links a trace can reach, rate-limited diamond',
            value: REACHABLE,
            unit: 'links',
            better: 'higher',
            details: 'r1>r2, r2>r3a, r2>r3b, r3a>r4, r3b>r4 (lab truth; r5 is silent)',
          },
          ...rows('trace', 'trace icmp-paris', traceTheirs, traceOurs, reachableId),
          ...rows('tracelb', 'multipath (MDA)', lbTheirs, lbOurs, reachableId),
        ],
        notes: [
          `${NAME}: ${TARGETS.length} addresses of lab/diamond-ratelimited.yaml's target, all at once, ${WAIT_S} s wait per probe; r3a rate-limits as Linux does by default ` +
            `(a burst of 6, then one error per second to each source), r4 one error per 500 ms for every source. scamper: ${traceTheirs.command} and ${lbTheirs.command}. ` +
            `hopmap: the worker's traceroute (icmp-paris) and multipath trace (udp-paris), both with the worker's per-responder ICMP budgets. Probes per link = probes ÷ links found.`,
        ],
      };
    });
  },
};

/** Three rows per trace kind, scamper's as the baselines: probes per link found, links found, time per target. */
function rows(kind: string, label: string, theirs: ScamperStats, ours: TraceStats, reachableId: string): Figure[] {
  const perLink = (s: TraceStats) => s.probes / Math.max(1, s.links.length);
  const id = (who: string, what: string) => `${NAME}/${kind}-${who}-${what}`;
  const scamperName = kind === 'trace' ? 'scamper trace' : 'scamper tracelb';
  return [
    {
      id: id('scamper', 'per-link'),
      label: `probes per link found, ${scamperName}, rate-limited`,
      value: perLink(theirs),
      unit: 'probes/link',
      better: 'lower',
      details: `${theirs.probes} probes, ${theirs.links.length} links`,
    },
    {
      id: id('hopmap', 'per-link'),
      label: `probes per link found, hopmap ${label}, rate-limited`,
      value: perLink(ours),
      unit: 'probes/link',
      better: 'lower',
      baseline: id('scamper', 'per-link'),
      details: `${ours.probes} probes, ${ours.links.length} links`,
    },
    {
      id: id('scamper', 'links'),
      label: `links found, ${scamperName}, rate-limited`,
      value: theirs.links.length,
      unit: 'links',
      better: 'higher',
      baseline: reachableId,
      details: theirs.links.join(' '),
    },
    {
      id: id('hopmap', 'links'),
      label: `links found, hopmap ${label}, rate-limited`,
      value: ours.links.length,
      unit: 'links',
      better: 'higher',
      baseline: reachableId,
      details: ours.links.join(' '),
      data: { ...ours },
    },
    {
      id: id('scamper', 'time'),
      label: `time per target, ${scamperName}, rate-limited`,
      value: theirs.seconds / theirs.traces,
      unit: 's/target',
      better: 'lower',
      details: `${theirs.seconds.toFixed(1)} s for ${theirs.traces} targets, all at once`,
    },
    {
      id: id('hopmap', 'time'),
      label: `time per target, hopmap ${label}, rate-limited`,
      value: ours.seconds / ours.traces,
      unit: 's/target',
      better: 'lower',
      baseline: id('scamper', 'time'),
      details: `${ours.seconds.toFixed(1)} s for ${ours.traces} targets, all at once`,
    },
  ];
}

/** Three seconds: Linux's bucket of 6 refills at one a second, a 500 ms limit at once. */
const settle = (ctx: BenchContext) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 3_000);
    ctx.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
