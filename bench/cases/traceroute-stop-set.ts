import { fileURLToPath } from 'node:url';
import type { BenchCase } from '../bench-case.js';
import { buildBenchLab, runInNamespace } from '../lab-for-bench.js';
import type { TraceArgs, TraceStats } from '../trace-in-namespace.js';

const NAME = 'traceroute-stop-set';
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TOPOLOGY = fileURLToPath(new URL('../../lab/diamond.yaml', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../trace-in-namespace.ts', import.meta.url));
const TARGETS = Array.from({ length: 100 }, (_, i) => `198.19.100.${i + 1}`);

/**
 * Traceroute probes per discovered link, with and without the Doubletree stop set, tracing the same 100
 * targets of the diamond lab one after another (icmp-paris, 3 probes per hop).
 */
export const tracerouteStopSet: BenchCase = {
  name: NAME,
  async run(ctx) {
    if (process.getuid?.() !== 0) return { figures: [], notes: [`${NAME}: skipped, it needs root (network namespaces and raw sockets).`] };
    const lab = await buildBenchLab(ctx, TOPOLOGY);
    try {
      const ns = lab.nsName('probe');
      const trace = async (stopSet: boolean): Promise<TraceStats> => {
        ctx.progress(`${NAME}: ${TARGETS.length} traceroutes from ${ns}, stop set ${stopSet ? 'on' : 'off'}`);
        const args: TraceArgs = { targets: TARGETS, method: 'icmp-paris', stopSet };
        const run = await runInNamespace(ns, process.execPath, ['--import', 'tsx', SCRIPT, JSON.stringify(args)], { signal: ctx.signal, cwd: REPO, timeoutMs: 600_000 });
        const line = run.stdout.trim().split('\n').at(-1) ?? '';
        if (run.code !== 0 || !line.startsWith('{')) throw new Error(`bench/trace-in-namespace.ts failed (exit ${run.code}): ${(run.stderr || run.stdout).slice(-800)}`);
        return JSON.parse(line) as TraceStats;
      };
      const plain = await trace(false);
      const doubletree = await trace(true);
      const perLink = (s: TraceStats) => s.probes / Math.max(1, s.links.length);
      const plainId = `${NAME}/plain`;
      return {
        figures: [
          { id: plainId, label: 'traceroute probes per link found, no stop set', value: perLink(plain), unit: 'probes/link', details: `${plain.probes} probes, ${plain.links.length} links, ${plain.seconds.toFixed(1)} s`, data: { ...plain } },
          {
            id: `${NAME}/doubletree`,
            label: 'traceroute probes per link found, Doubletree',
            value: perLink(doubletree),
            unit: 'probes/link',
            baseline: plainId,
            details: `${doubletree.probes} probes (${doubletree.saved} saved), ${doubletree.links.length} links, ${doubletree.seconds.toFixed(1)} s`,
            data: { ...doubletree },
          },
        ],
        notes: [
          `${NAME}: ${TARGETS.length} icmp-paris traceroutes, one after another, from the probe namespace of lab/diamond.yaml to addresses of one /24 ` +
            `(3 probes per hop); links are interface pairs at consecutive TTLs. Lower is better here: the ratio is the share of probes Doubletree still needs per link found.`,
        ],
      };
    } finally {
      await lab.teardown();
    }
  },
};
