import { fileURLToPath } from 'node:url';
import type { BenchCase } from '../bench-case.js';
import { withBenchLab } from '../lab-for-bench.js';
import { hopmapTraces, scamperTraces, versusScamper } from '../lab-traces.js';

const NAME = 'traceroute-scamper';
const TOPOLOGY = fileURLToPath(new URL('../../lab/diamond.yaml', import.meta.url));
const TARGETS = Array.from({ length: 100 }, (_, i) => `198.19.100.${i + 1}`);
/** Targets traced at once by either tool (scamper's task window). */
const AT_ONCE = 20;
/** scamper's trace waits whole seconds; hopmap's worker waits 1 s by default too (probe_timeout). */
const WAIT_S = 1;
/** Interface links a single-flow trace can see on the diamond: probe side of r1, r2, both r3s and r4 (r5 is silent). */
const TRUE_LINKS = 5;

/** hopmap's single-flow icmp-paris traceroute beside scamper's `trace -P icmp-paris -q 3` on the same lab targets. */
export const tracerouteScamper: BenchCase = {
  name: NAME,
  async run(ctx) {
    return withBenchLab(ctx, NAME, TOPOLOGY, async (lab) => {
      const ns = lab.nsName('probe');
      const command = `trace -P icmp-paris -q 3 -w ${WAIT_S}`;
      ctx.progress(`${NAME}: scamper ${command}, ${TARGETS.length} targets, ${AT_ONCE} at a time`);
      const scamper = await scamperTraces(ctx, ns, command, TARGETS, AT_ONCE);
      ctx.progress(`${NAME}: hopmap icmp-paris, ${TARGETS.length} targets, ${AT_ONCE} at a time`);
      const hopmap = await hopmapTraces(ctx, ns, {
        targets: TARGETS,
        method: 'icmp-paris',
        stopSet: false,
        concurrency: AT_ONCE,
        timeoutMs: WAIT_S * 1000,
      });
      return {
        figures: versusScamper({
          caseName: NAME,
          scamperLabel: 'scamper trace icmp-paris',
          hopmapLabel: 'hopmap traceroute icmp-paris',
          hopmap,
          scamper,
          truth: TRUE_LINKS,
        }),
        notes: [
          `${NAME}: ${TARGETS.length} addresses of the diamond lab's target (lab/diamond.yaml; r5 before the target never answers), ${AT_ONCE} traced at once by each tool, ` +
            `${WAIT_S} s wait per probe for both. scamper: ${scamper.command} (one probe per hop, up to 3 at a hop that does not answer, one after another). ` +
            `hopmap: the worker's Tracer, icmp-paris, one probe per hop and the other 2 together where it goes unanswered, no stop set. Time per target = the run's wall-clock ÷ targets.`,
        ],
      };
    });
  },
};
