import { randomInt } from 'node:crypto';
import { hash32 } from '../net/hash32.js';
import { Icmp6Echo } from './icmp6-echo.js';
import { IcmpProber } from './icmp-prober.js';
import { ProbeSendError, type ProbeReply } from './probe-reply.js';
import type { IcmpSocket } from './icmp-socket.js';
import { TcpProber } from './tcp-prober.js';
import { traceMultipath, type MultipathOptions, type MultipathResult } from './multipath-trace.js';
import {
  traceDoubletree,
  traceFlow,
  type DoubletreeOptions,
  type SendProbe,
  type TraceMethod,
  type TraceOptions,
  type TraceResult,
} from './traceroute.js';
import { UdpProber } from './udp-prober.js';

export interface TracerOptions extends TraceOptions {
  timeoutMs?: number;
  /** The flow identifier to keep (ICMP checksum, UDP flow slot, TCP source port); random when not given. */
  flow?: number;
  /** Destination port of tcp-syn probes (default 80). */
  tcpPort?: number;
  /** Called before every probe is sent: the worker's packets-per-second cap. */
  pace?: () => Promise<void>;
  /** Probe the Doubletree way with this stop set (forward from the middle, then backward). */
  doubletree?: DoubletreeOptions;
}

/**
 * The flow a route keeps from trace to trace: the same (worker, target) always probes on the same flow, so
 * its traces follow one path through every per-flow balancer, and a different path is a route change rather
 * than another draw of the hash. ICMP checksums 1-65534; UDP and TCP source ports 20000-31999, below the
 * kernel's ephemeral range.
 */
export function routeFlow(route: string, method: TraceMethod): number {
  const h = hash32(route);
  return method === 'icmp-paris' ? 1 + (h % 0xfffe) : 20_000 + (h % 12_000);
}

/** Wraps a probe sender so every probe first takes its send slot. */
const paced = <A extends unknown[], R>(pace: (() => Promise<void>) | undefined, send: (...args: A) => Promise<R>) =>
  pace ? async (...args: A) => (await pace(), send(...args)) : send;

/** Paris traceroutes over the process's raw ICMP socket, by method. */
export class Tracer {
  private readonly icmp: IcmpProber;
  private icmp6?: Icmp6Echo | ProbeSendError;
  private readonly udp: UdpProber;
  private readonly tcp: TcpProber;

  constructor(socket: IcmpSocket) {
    this.icmp = new IcmpProber(socket);
    this.udp = new UdpProber(socket);
    this.tcp = new TcpProber(socket);
  }

  get echo(): IcmpProber {
    return this.icmp;
  }

  /**
   * One ICMPv6 echo to `dst`, on a raw ICMPv6 socket opened at the first IPv6 target. Rejects with the reason
   * (ProbeSendError) where the socket cannot be had: no probe left, so none may be counted as unanswered.
   */
  echo6(dst: string, opts: { timeoutMs?: number } = {}): Promise<ProbeReply | undefined> {
    this.icmp6 ??= Icmp6Echo.open();
    if (this.icmp6 instanceof ProbeSendError) return Promise.reject(new ProbeSendError(dst, this.icmp6.reason));
    return this.icmp6.echo(dst, opts);
  }

  async trace(dst: string, method: TraceMethod, opts: TracerOptions = {}): Promise<TraceResult> {
    const timeoutMs = opts.timeoutMs ?? 1_000;
    const perHop = opts.probesPerHop ?? 3;
    const run = (flow: number, send: SendProbe) => {
      const pacedSend = paced(opts.pace, send);
      return opts.doubletree
        ? traceDoubletree(dst, method, flow, pacedSend, { ...opts, ...opts.doubletree })
        : traceFlow(dst, method, flow, pacedSend, opts);
    };
    switch (method) {
      case 'icmp-paris': {
        // The checksum is the flow identifier: constant for every probe of the trace, never 0.
        const checksum = opts.flow ?? randomInt(1, 0xffff);
        return run(checksum, (ttl) => this.icmp.echo(dst, { ttl, checksum, timeoutMs }));
      }
      case 'udp-paris': {
        // The flow identifier is the source port: the kernel's choice, or the one asked for to repeat a flow.
        const slot = randomInt(1, 2 ** 31);
        try {
          // A port another trace holds: the kernel's choice instead (that one trace is on another flow).
          const port = await this.udp
            .openFlow(slot, dst, undefined, opts.flow ?? 0)
            .catch((err: NodeJS.ErrnoException) =>
              err.code === 'EADDRINUSE' && opts.flow ? this.udp.openFlow(slot, dst, undefined, 0) : Promise.reject(err),
            );
          // One id more per hop than attempts: a trace may come back to a silent hop once (traceroute.ts).
          return await run(port, (ttl, i) =>
            this.udp.probe(slot, { ttl, probeId: (ttl - 1) * (perHop + 1) + i, timeoutMs }),
          );
        } finally {
          this.udp.endFlow(slot);
        }
      }
      case 'tcp-syn': {
        const srcPort = opts.flow ?? TcpProber.flowPort();
        const dstPort = opts.tcpPort ?? 80;
        return run(srcPort, (ttl) => this.tcp.probe(dst, { srcPort, dstPort, ttl, timeoutMs }));
      }
    }
  }

  /**
   * Multipath traceroute (MDA): flow n is the n-th flow identifier of the method (ICMP checksum n,
   * UDP source port of flow slot n, TCP source port base + n).
   */
  async multipath(
    dst: string,
    method: TraceMethod,
    opts: MultipathOptions & { timeoutMs?: number; tcpPort?: number; pace?: () => Promise<void> } = {},
  ): Promise<MultipathResult> {
    const timeoutMs = opts.timeoutMs ?? 1_000;
    const pace = opts.pace ?? (async () => {});
    switch (method) {
      case 'icmp-paris':
        return traceMultipath(
          dst,
          method,
          async (flow, ttl) => (await pace(), this.icmp.echo(dst, { ttl, checksum: flow, timeoutMs })),
          opts,
        );
      case 'udp-paris': {
        const base = randomInt(1, 2 ** 30);
        const opened = new Set<number>();
        try {
          return await traceMultipath(
            dst,
            method,
            async (flow, ttl) => {
              if (!opened.has(flow)) {
                opened.add(flow);
                await this.udp.openFlow(base + flow, dst);
              }
              await pace();
              return this.udp.probe(base + flow, { ttl, probeId: ttl, timeoutMs });
            },
            opts,
          );
        } finally {
          for (const flow of opened) this.udp.endFlow(base + flow);
        }
      }
      case 'tcp-syn': {
        const base = TcpProber.flowPort();
        const dstPort = opts.tcpPort ?? 80;
        return traceMultipath(
          dst,
          method,
          async (flow, ttl) => (await pace(), this.tcp.probe(dst, { srcPort: base + flow, dstPort, ttl, timeoutMs })),
          opts,
        );
      }
    }
  }

  close(): void {
    if (this.icmp6 && !(this.icmp6 instanceof ProbeSendError)) this.icmp6.close();
    this.icmp.close();
    this.udp.close();
    this.tcp.close();
  }
}
