import { fileURLToPath } from 'node:url';
import type { BenchCase } from '../bench-case.js';
import { withBenchLab } from '../lab-for-bench.js';
import { hopmapTraces } from '../lab-traces.js';
import type { TraceStats } from '../trace-in-namespace.js';

const NAME = 'traceroute-stop-set';
const TOPOLOGY = fileURLToPath(new URL('../../lab/diamond.yaml', import.meta.url));
const TARGETS = Array.from({ length: 100 }, (_, i) => `198.19.100.${i + 1}`);

/**
 * Traceroute probes per discovered link, with and without the Doubletree stop set, tracing the same 100
 * targets of the diamond lab one after another (icmp-paris, one probe per hop, up to 3 at a silent one).
 */
export const tracerouteStopSet: BenchCase = {
  name: NAME,
  async run(ctx) {
    return withBenchLab(ctx, NAME, TOPOLOGY, async (lab) => {
      const ns = lab.nsName('probe');
      const trace = (stopSet: boolean): Promise<TraceStats> => {
        ctx.progress(`${NAME}: ${TARGETS.length} traceroutes from ${ns}, stop set ${stopSet ? 'on' : 'off'}`);
        return hopmapTraces(ctx, ns, { targets: TARGETS, method: 'icmp-paris', stopSet });
      };
      const plain = await trace(false);
      const doubletree = await trace(true);
      const perLink = (s: TraceStats) => s.probes / Math.max(1, s.links.length);
      const plainId = `${NAME}/plain`;
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
          {
            id: `${NAME}/doubletree`,
            label: 'traceroute probes per link found, Doubletree',
            value: perLink(doubletree),
            unit: 'probes/link',
            better: 'lower',
            baseline: plainId,
            details: `${doubletree.probes} probes (${doubletree.saved} saved), ${doubletree.links.length} links, ${doubletree.seconds.toFixed(1)} s`,
            data: { ...doubletree },
          },
        ],
        notes: [
          `${NAME}: ${TARGETS.length} icmp-paris traceroutes, one after another, from the probe namespace of lab/diamond.yaml to addresses of one /24 ` +
            `(one probe per hop, up to 3 at a silent one); links are interface pairs at consecutive TTLs. Lower is better here: the ratio is the share of probes Doubletree still needs per link found.`,
        ],
      };
    });
  },
};
