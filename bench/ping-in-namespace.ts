/**
 * The hopmap side of the `ping-lab` bench case, run inside the lab's probe namespace:
 * `ip netns exec <ns> node --import tsx bench/ping-in-namespace.ts '<json>'`.
 *
 * Opens one IcmpSocket and one IcmpProber (what the probe worker uses) and keeps `window` echoes outstanding,
 * round-robin over `targets`, with no pacing: the prober's ceiling, not the worker's safe default. After the
 * warm-up, every echo sent during the measured window counts as sent, and as answered when the prober matched
 * its reply (destination, identifier, sequence) before `timeoutMs`. Prints one JSON object on stdout.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ICMP_ECHO_REPLY } from '../src/probe/icmp-packets.js';
import { IcmpProber } from '../src/probe/icmp-prober.js';
import { IcmpSocket } from '../src/probe/icmp-socket.js';

export interface PingArgs {
  targets: string[];
  /** Echoes outstanding at any time. */
  window: number;
  warmupSeconds: number;
  seconds: number;
  timeoutMs: number;
}

export interface PingResult {
  window: number;
  /** Echoes sent during the measured window, and how many of them the prober matched to a reply. */
  sent: number;
  answered: number;
  seconds: number;
  p50_us: number;
  p99_us: number;
  /** Echo replies carrying the prober's identifier that reached the socket during the measured window. */
  socket_replies: number;
  /** From the namespace's kernel counters over the whole run: echo replies in, and packets the raw socket dropped. */
  kernel_echo_replies: number;
  raw_drops: number;
}

const args = JSON.parse(process.argv[2]!) as PingArgs;
const socket = IcmpSocket.open();
const prober = new IcmpProber(socket);

const kernelBefore = kernelCounters();
const start = performance.now();
const windowStart = start + args.warmupSeconds * 1000;
const windowEnd = windowStart + args.seconds * 1000;
let next = 0;
let sent = 0;
let answered = 0;
let socketReplies = 0;
const rtts: number[] = [];

const unlisten = socket.listen((msg) => {
  if (msg.type !== ICMP_ECHO_REPLY || msg.echo?.id !== prober.id) return;
  const now = performance.now();
  if (now >= windowStart && now < windowEnd) socketReplies++;
});

const lane = async () => {
  for (;;) {
    const t = performance.now();
    if (t >= windowEnd) return;
    const dst = args.targets[next++ % args.targets.length]!;
    const reply = await prober.echo(dst, { timeoutMs: args.timeoutMs });
    if (t < windowStart) continue;
    sent++;
    if (reply) {
      answered++;
      rtts.push(reply.rttUs);
    }
  }
};
await Promise.all(Array.from({ length: args.window }, lane));
const kernelAfter = kernelCounters();
unlisten();
prober.close();
socket.close();

rtts.sort((a, b) => a - b);
const pct = (q: number) => (rtts.length ? rtts[Math.min(rtts.length - 1, Math.floor(q * rtts.length))]! : NaN);
const result: PingResult = {
  window: args.window,
  sent,
  answered,
  seconds: args.seconds,
  p50_us: pct(0.5),
  p99_us: pct(0.99),
  socket_replies: socketReplies,
  kernel_echo_replies: kernelAfter.echoReplies - kernelBefore.echoReplies,
  raw_drops: kernelAfter.rawDrops,
};
process.stdout.write(`${JSON.stringify(result)}\n`);

/** Icmp InEchoReps from /proc/net/snmp and the drops of the namespace's raw ICMP sockets from /proc/net/raw. */
function kernelCounters(): { echoReplies: number; rawDrops: number } {
  const snmp = readFileSync('/proc/self/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Icmp: '));
  const names = snmp[0]?.split(/\s+/) ?? [];
  const values = snmp[1]?.split(/\s+/) ?? [];
  const echoReplies = Number(values[names.indexOf('InEchoReps')] ?? NaN);
  // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops; local is ADDR:PROTO in hex.
  let rawDrops = 0;
  for (const line of readFileSync('/proc/self/net/raw', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 13 && f[1]!.endsWith(':0001')) rawDrops += Number(f[12]);
  }
  return { echoReplies, rawDrops };
}
