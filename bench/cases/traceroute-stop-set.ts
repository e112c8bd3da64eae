import { fileURLToPath } from 'node:url';
import type { BenchCase, Figure } from '../bench-case.js';
import { withBenchLab } from '../lab-for-bench.js';
import { hopmapTraces } from '../lab-traces.js';
import type { TraceArgs, TraceStats } from '../trace-in-namespace.js';

const NAME = 'traceroute-stop-set';
const TOPOLOGY = fileURLToPath(new URL('../../lab/diamond.yaml', import.meta.url));
const TARGETS = Array.from({ length: 100 }, (_, i) => `198.19.100.${i + 1}`);

const ROUNDS = 12;
const HOUR = 60 * 60_000;

/**
 * Traceroute probes per discovered link, with and without the Doubletree stop set, tracing the same 100
 * targets of the diamond lab one after another (icmp-paris, one probe per hop, up to 3 at a silent one), twelve
 * times over as twelve passes of a worker would. The stop set's clock is simulated: a pass an hour (the input's
 * default cooldown), a second per trace, so entries age as they would over twelve hours.
 */
export const tracerouteStopSet: BenchCase = {
  name: NAME,
  async run(ctx) {
    return withBenchLab(ctx, NAME, TOPOLOGY, async (lab) => {
      const ns = lab.nsName('probe');
      const trace = (label: string, args: Partial<TraceArgs>): Promise<TraceStats> => {
        ctx.progress(`${NAME}: ${ROUNDS} x ${TARGETS.length} traceroutes from ${ns}, ${label}`);
        return hopmapTraces(ctx, ns, {
          targets: TARGETS,
          method: 'icmp-paris',
          stopSet: false,
          rounds: ROUNDS,
          ...args,
        });
      };
      // Ten at a time: without a stop set no trace depends on another, and r5's silence costs each 0.6 s.
      const plain = await trace('no stop set', { concurrency: 10 });
      const forever = await trace('stop set kept forever', { stopSet: true });
      const current = await trace('stop set with the default ageing', {
        stopSet: true,
        clock: { traceMs: 1_000, roundMs: HOUR, maxAgeMs: HOUR, fullTraceEveryMs: 6 * HOUR },
      });
      const perLink = (s: TraceStats) => s.probes / Math.max(1, s.links.length);
      const share = (s: TraceStats) => `${(((s.fullTraces ?? 0) / s.traces) * 100).toFixed(1)}% full traces`;
      const plainId = `${NAME}/plain`;
      const figure = (id: string, label: string, s: TraceStats): Figure => ({
        id: `${NAME}/${id}`,
        label,
        value: perLink(s),
        unit: 'probes/link',
        better: 'lower',
        baseline: plainId,
        details: `${s.probes} probes (${s.saved} saved, ${share(s)}), ${s.links.length} links, ${s.seconds.toFixed(1)} s`,
        data: { ...s },
      });
      return {
        figures: [
          {
            id: plainId,
            label: 'traceroute probes per link found, no stop set',
            value: perLink(plain),
            unit: 'probes/link',
            better: 'lower',
            details: `${plain.probes} probes, ${plain.links.length} links, ${plain.seconds.toFixed(1)} s`,
            data: { ...plain },
          },
          figure('doubletree', 'traceroute probes per link found, Doubletree, entries kept forever', forever),
          figure(
            'doubletree-current',
            'traceroute probes per link found, Doubletree, entries aged (1 h) and a full trace per target every 6 h',
            current,
          ),
        ],
        notes: [
          `${NAME}: ${TARGETS.length} icmp-paris traceroutes to addresses of one /24, one after another (ten at a time without a stop set), ${ROUNDS} rounds, from the probe namespace of lab/diamond.yaml ` +
            `(one probe per hop, up to 3 at a silent one; one flow per target); links are interface pairs at consecutive TTLs. Lower is better here: the ratio is the share of probes Doubletree still needs per link found. ` +
            `"Kept forever" is the stop set before entries aged: it never looks behind a known point again. "Aged" is the worker's default (stop_set_max_age 1h, full_trace_every 6h) ` +
            `on a simulated clock with a pass an hour: the price of a map that stays current.`,
        ],
      };
    });
  },
};
