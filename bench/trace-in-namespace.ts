/**
 * Run inside a lab namespace by the traceroute cases: traces every target, `concurrency` at a time (one after
 * another by default), single-flow with or without a Doubletree stop set, or multipath (MDA), and prints
 * probes sent, probes saved and the links found as JSON.
 */
import { IcmpSocket } from '../src/probe/icmp-socket.js';
import { ResponderBudget } from '../src/probe/responder-budget.js';
import { StopSet } from '../src/probe/stop-set.js';
import { routeFlow, Tracer } from '../src/probe/tracer.js';
import type { TraceMethod } from '../src/probe/traceroute.js';

export interface TraceArgs {
  targets: string[];
  method: TraceMethod;
  stopSet: boolean;
  /** 'multipath' runs the worker's MDA trace; default one flow per target. */
  mode?: 'single' | 'multipath';
  /** Targets traced at once (default 1). */
  concurrency?: number;
  /** Wait for each probe's answer (default 300 ms). */
  timeoutMs?: number;
  /** Per-responder ICMP budgets shared by every trace, as the worker keeps them (default off). */
  budget?: boolean;
  /** Trace the targets this many times over (default 1), as a worker's passes do. */
  rounds?: number;
  /**
   * The stop set's ageing on a simulated clock: each trace takes `traceMs` and a round `roundMs` (its start to
   * the next's), so an hour-long pass cycle runs in seconds. Without it, entries never age.
   */
  clock?: { traceMs: number; roundMs: number; maxAgeMs: number; fullTraceEveryMs: number };
}

export interface TraceStats {
  traces: number;
  probes: number;
  saved: number;
  /** Traces that used no stop-set entry (with a stop set). */
  fullTraces?: number;
  /** Interface pairs answering at consecutive TTLs of one flow. */
  links: string[];
  seconds: number;
}

const args = JSON.parse(process.argv[2]!) as TraceArgs;
const socket = IcmpSocket.open();
const tracer = new Tracer(socket);
let simulatedMs = 0;
const stopSet = args.stopSet
  ? new StopSet(
      args.clock
        ? { maxAgeMs: args.clock.maxAgeMs, fullTraceEveryMs: args.clock.fullTraceEveryMs, now: () => simulatedMs }
        : { maxAgeMs: Infinity, fullTraceEveryMs: Infinity },
    )
  : undefined;
const responders = args.budget ? { responders: new ResponderBudget() } : {};
const timeoutMs = args.timeoutMs ?? 300;
const links = new Set<string>();
let probes = 0;

async function traceOne(target: string): Promise<void> {
  if (args.mode === 'multipath') {
    const mp = await tracer.multipath(target, args.method, { timeoutMs, gapLimit: 3, ...responders });
    probes += mp.probesSent;
    for (const [near, far] of mp.links) if (near !== far) links.add(`${near}>${far}`);
    return;
  }
  const trace = await tracer.trace(target, args.method, {
    // One flow per target across rounds, as the worker keeps one per (worker, target).
    flow: routeFlow(target, args.method),
    timeoutMs,
    gapLimit: 3,
    ...responders,
    ...(stopSet ? { doubletree: { stopSet, startTtl: 3 } } : {}),
  });
  probes += trace.probesSent;
  const hops = trace.hops.map((h) => ({ ttl: h.ttl, from: h.probes.find((p) => p !== null)?.from ?? null }));
  for (let i = 1; i < hops.length; i++) {
    const [a, b] = [hops[i - 1]!, hops[i]!];
    if (a.from && b.from && b.ttl === a.ttl + 1 && a.from !== b.from) links.add(`${a.from}>${b.from}`);
  }
}

const started = performance.now();
try {
  const rounds = args.rounds ?? 1;
  for (let round = 0; round < rounds; round++) {
    if (args.clock) simulatedMs = round * args.clock.roundMs;
    const queue = [...args.targets];
    await Promise.all(
      Array.from({ length: Math.max(1, args.concurrency ?? 1) }, async () => {
        for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
          await traceOne(t);
          if (args.clock) simulatedMs += args.clock.traceMs;
        }
      }),
    );
  }
  const out: TraceStats = {
    traces: args.targets.length * rounds,
    probes,
    saved: stopSet?.saved ?? 0,
    ...(stopSet && { fullTraces: stopSet.snapshot().full_traces }),
    links: [...links].sort(),
    seconds: (performance.now() - started) / 1000,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  tracer.close();
  socket.close();
}
