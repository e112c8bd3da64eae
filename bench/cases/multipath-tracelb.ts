import { fileURLToPath } from 'node:url';
import type { BenchCase } from '../bench-case.js';
import { withBenchLab } from '../lab-for-bench.js';
import { hopmapTraces, scamperTraces, versusScamper } from '../lab-traces.js';

const NAME = 'multipath-tracelb';
const TOPOLOGY = fileURLToPath(new URL('../../lab/diamond.yaml', import.meta.url));
/** tracelb takes ~30 s per target here (it paces its probes 150 ms apart at the least), so few targets, all at once. */
const TARGETS = Array.from({ length: 10 }, (_, i) => `198.19.100.${i + 1}`);
const WAIT_S = 1;
/** r1 > r2, r2 > r3a, r2 > r3b, r3a > r4, r3b > r4 (r4's two interfaces); r5 is silent. */
const TRUE_LINKS = 5;

/** hopmap's multipath (MDA) trace beside scamper's tracelb (MDA) on the diamond's ECMP split. */
export const multipathTracelb: BenchCase = {
  name: NAME,
  async run(ctx) {
    return withBenchLab(ctx, NAME, TOPOLOGY, async (lab) => {
      const ns = lab.nsName('probe');
      // UDP: the lab's routers hash ports (ecmp_hash l4), so a flow is a source port for both tools.
      const command = `tracelb -P udp-sport -c 95 -w ${WAIT_S} -W 15`;
      ctx.progress(`${NAME}: scamper ${command}, ${TARGETS.length} targets at once`);
      const scamper = await scamperTraces(ctx, ns, command, TARGETS, TARGETS.length);
      ctx.progress(`${NAME}: hopmap multipath udp-paris, ${TARGETS.length} targets at once`);
      const hopmap = await hopmapTraces(ctx, ns, {
        targets: TARGETS,
        method: 'udp-paris',
        mode: 'multipath',
        stopSet: false,
        concurrency: TARGETS.length,
        timeoutMs: WAIT_S * 1000,
      });
      return {
        figures: versusScamper({
          caseName: NAME,
          scamperLabel: 'scamper tracelb (MDA)',
          hopmapLabel: 'hopmap multipath (MDA)',
          hopmap,
          scamper,
          truth: TRUE_LINKS,
        }),
        notes: [
          `${NAME}: ${TARGETS.length} addresses of the diamond lab's target, all traced at once by each tool, ${WAIT_S} s wait per probe, 95% confidence. ` +
            `scamper: ${scamper.command} (-W 15, 150 ms between probes, is the least it takes); it also reported ${scamper.bridged} links across the silent r5, not counted. ` +
            `hopmap: the worker's multipath trace, udp-paris. Links are interface pairs answering at consecutive TTLs.`,
        ],
      };
    });
  },
};
