import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchCase, Figure } from '../bench-case.js';
import { formatCount } from '../bench-table.js';
import { FPING, runFping, type FpingResult } from '../fping-load.js';
import { withBenchLab, runInNamespace } from '../lab-for-bench.js';
import type { PingArgs, PingResult } from '../ping-in-namespace.js';

export const PING_LAB = 'ping-lab';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TOPOLOGY = fileURLToPath(new URL('../../lab/diamond.yaml', import.meta.url));
const PING_SCRIPT = fileURLToPath(new URL('../ping-in-namespace.ts', import.meta.url));

/** 198.19.100.0/24 is local on the diamond's target: every address answers. .1-.254, as fping -g would list them. */
const TARGET_PREFIX = '198.19.100.0/24';
const TARGETS = Array.from({ length: 254 }, (_, i) => `198.19.100.${i + 1}`);

/**
 * Echoes hopmap keeps outstanding. 8, 32, 64, 256 and 512 measured within the noise of each other on a
 * 2-CPU machine (raw-socket sends or receives one packet per event-loop turn whatever the window); 64 was
 * best or level in most runs, and 512 a little behind.
 */
const WINDOW = 64;
/** Both sides wait this long for a reply; on the lab a reply takes microseconds, so it only matters for losses. */
const TIMEOUT_MS = 500;

/**
 * Echo replies per second from the lab's probe namespace to the 254 addresses on its target (6 routers away,
 * through the diamond's ECMP split): hopmap's ICMP prober (one IcmpSocket + IcmpProber in one process, each
 * echo matched to its reply) beside fping on the same namespaces in the same run.
 */
export const pingLab: BenchCase = {
  name: PING_LAB,
  async run(ctx) {
    return withBenchLab(ctx, PING_LAB, TOPOLOGY, async (lab) => {
      if (!lab.plan.nodes.get('target')?.lo.some((b) => b.cidr === TARGET_PREFIX))
        throw new Error(`${TOPOLOGY}: the target node no longer has ${TARGET_PREFIX} on lo`);
      const ns = lab.nsName('probe');
      const check = await lab.exec('probe', 'ping', ['-c1', '-W2', TARGETS.at(-1)!]);
      if (check.code !== 0)
        throw new Error(
          `lab ${lab.name}: ${TARGETS.at(-1)} does not answer ping from ${ns}: ${check.stdout}${check.stderr}`,
        );

      let fping: FpingResult | undefined;
      if (existsSync(FPING)) {
        ctx.progress(`${PING_LAB}: fping from ${ns}, ${ctx.seconds} s`);
        fping = await runFping({
          ns,
          targets: TARGETS,
          warmupSeconds: ctx.warmupSeconds,
          seconds: ctx.seconds,
          timeoutMs: TIMEOUT_MS,
          signal: ctx.signal,
        });
      }

      ctx.progress(`${PING_LAB}: hopmap ICMP prober from ${ns}, window ${WINDOW}, ${ctx.seconds} s`);
      const hopmap = await runHopmapPing(
        ns,
        {
          targets: TARGETS,
          window: WINDOW,
          warmupSeconds: ctx.warmupSeconds,
          seconds: ctx.seconds,
          timeoutMs: TIMEOUT_MS,
        },
        ctx.signal,
      );

      const fpingId = `${PING_LAB}/fping`;
      const figures: Figure[] = [];
      if (fping) {
        figures.push({
          id: fpingId,
          label: 'echo replies/s, fping, lab diamond',
          value: fping.answered / fping.seconds,
          unit: 'replies/s',
          details: `${loss(fping.sent, fping.answered)}, avg ${formatUs(fping.avg_us)}, ${fping.runs} runs of ${formatCount(fping.sent / Math.max(fping.runs, 1))} echoes`,
          data: { ...fping },
        });
      }
      figures.push({
        id: `${PING_LAB}/hopmap-w${WINDOW}`,
        label: `echo replies/s, hopmap ICMP prober, lab diamond, ${WINDOW} in flight`,
        value: hopmap.answered / hopmap.seconds,
        unit: 'replies/s',
        baseline: fpingId,
        details: `${loss(hopmap.sent, hopmap.answered)}, p50 ${formatUs(hopmap.p50_us)}, p99 ${formatUs(hopmap.p99_us)}, 1 process${hopmap.raw_drops ? `, ${formatCount(hopmap.raw_drops)} dropped by the socket` : ''}`,
        data: { ...hopmap },
      });
      const notes = [
        `${PING_LAB}: ICMP echoes from the probe namespace of lab/diamond.yaml (built as lab ${lab.name}) to the 254 addresses of ${TARGET_PREFIX} on its target, ` +
          `6 routers away; both sides run in the same namespaces in this run, fping first, and count replies to echoes sent after the warm-up. ` +
          `hopmap: \`ip netns exec <probe> node --import tsx bench/ping-in-namespace.ts\`, one IcmpSocket + IcmpProber keeping ${WINDOW} echoes in flight round-robin, ` +
          `no pacing (the prober's ceiling, not the worker's 100 pps default), timeout ${TIMEOUT_MS} ms.`,
        fping
          ? `${PING_LAB}: fping: \`${fping.command}\` back to back (fping 5.1 refuses more than 65,535 echoes per 10 s in one process), ` +
            `replies from its per-target xmt/rcv lines over the runs' wall-clock time (each ~10 ms of it is start-up).`
          : `${PING_LAB}: no baseline: ${FPING} is not installed.`,
        `${PING_LAB}: RTTs are microseconds because veth hands packets on inside the sender's syscall: the reply is queued before sendto returns. ` +
          `hopmap's RTT runs from just after the send to the reply's turn in the event loop; fping's from before sendto to the kernel's receive timestamp.`,
      ];
      if (hopmap.socket_replies + WINDOW < hopmap.answered || hopmap.answered + WINDOW < hopmap.socket_replies) {
        notes.push(
          `${PING_LAB}: the socket saw ${formatCount(hopmap.socket_replies)} echo replies with the prober's id in the window but the prober matched ${formatCount(hopmap.answered)}.`,
        );
      }
      return { figures, notes };
    });
  },
};

async function runHopmapPing(ns: string, args: PingArgs, signal: AbortSignal): Promise<PingResult> {
  const run = await runInNamespace(ns, process.execPath, ['--import', 'tsx', PING_SCRIPT, JSON.stringify(args)], {
    signal,
    cwd: REPO,
    timeoutMs: (args.warmupSeconds + args.seconds) * 1000 + args.timeoutMs + 60_000,
  });
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  if (run.code !== 0 || !line.startsWith('{')) {
    throw new Error(
      `bench/ping-in-namespace.ts in ${ns} failed (${run.signal ? `signal ${run.signal}` : `exit ${run.code}`}): ${(run.stderr || run.stdout).slice(-1000).trim()}`,
    );
  }
  return JSON.parse(line) as PingResult;
}

const loss = (sent: number, answered: number) =>
  `loss ${sent > 0 ? ((100 * (sent - answered)) / sent).toFixed(2) : '–'} % of ${formatCount(sent)}`;

function formatUs(us: number): string {
  if (!Number.isFinite(us)) return '–';
  return us < 10 ? `${us.toFixed(1)} µs` : `${formatCount(us)} µs`;
}
