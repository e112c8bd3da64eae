/**
 * Run inside a lab namespace by the traceroute-stop-set case: traces every target one after another, with
 * or without a Doubletree stop set, and prints probes sent, probes saved and the links found as JSON.
 */
import { IcmpSocket } from '../src/probe/icmp-socket.js';
import { StopSet } from '../src/probe/stop-set.js';
import { Tracer } from '../src/probe/tracer.js';
import type { TraceMethod } from '../src/probe/traceroute.js';

export interface TraceArgs {
  targets: string[];
  method: TraceMethod;
  stopSet: boolean;
}

export interface TraceStats {
  traces: number;
  probes: number;
  saved: number;
  /** Interface pairs answering at consecutive TTLs of one trace. */
  links: string[];
  seconds: number;
}

const args = JSON.parse(process.argv[2]!) as TraceArgs;
const socket = IcmpSocket.open();
const tracer = new Tracer(socket);
const stopSet = args.stopSet ? new StopSet() : undefined;
const links = new Set<string>();
let probes = 0;
const started = performance.now();
try {
  for (const target of args.targets) {
    const trace = await tracer.trace(target, args.method, { timeoutMs: 300, gapLimit: 3, ...(stopSet ? { doubletree: { stopSet, startTtl: 3 } } : {}) });
    probes += trace.probesSent;
    const hops = trace.hops.map((h) => ({ ttl: h.ttl, from: h.probes.find((p) => p !== null)?.from ?? null }));
    for (let i = 1; i < hops.length; i++) {
      const [a, b] = [hops[i - 1]!, hops[i]!];
      if (a.from && b.from && b.ttl === a.ttl + 1 && a.from !== b.from) links.add(`${a.from}>${b.from}`);
    }
  }
  const out: TraceStats = { traces: args.targets.length, probes, saved: stopSet?.saved ?? 0, links: [...links].sort(), seconds: (performance.now() - started) / 1000 };
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  tracer.close();
  socket.close();
}
