import dgram from 'node:dgram';
import { ICMP_DEST_UNREACHABLE } from './icmp-packets.js';
import type { IcmpSocket } from './icmp-socket.js';
import { PendingProbes } from './pending-probes.js';
import { replyFromIcmp, type ProbeReply } from './probe-reply.js';

export const DEFAULT_UDP_PORT = 33434;

/** Destinations are address literals: answer at once instead of asking the resolver. */
const literalLookup = (
  address: string,
  _opts: unknown,
  cb: (err: Error | null, address: string, family: number) => void,
) => cb(null, address, 4);

interface FlowSocket {
  socket: dgram.Socket;
  port: number;
  dst: string;
  dstPort: number;
  queue: Promise<unknown>;
}

/**
 * UDP probes for Paris traceroute: every probe of a flow has the same addresses and ports (the flow
 * identifier load balancers hash), and probes are told apart by their UDP length, which routers quote back
 * in the ICMP error and which no per-flow balancer hashes. One socket per source port; sends on a socket
 * are serialised because the TTL is a socket option.
 */
export class UdpProber {
  private readonly pending = new PendingProbes();
  private readonly sockets = new Map<number, FlowSocket>();
  private readonly unlisten: () => void;

  constructor(icmp: IcmpSocket) {
    this.unlisten = icmp.listen((msg, at) => {
      const q = msg.quoted;
      if (q?.protocol !== 17 || !q.ports || q.udpLength === undefined) return;
      this.pending.settle(`${q.dst}|${q.ports.src}|${q.ports.dst}|${q.udpLength}`, at, (rttUs) =>
        replyFromIcmp(msg, rttUs),
      );
    });
  }

  /**
   * A socket for flow `flow`, bound to `srcPort` (or one the kernel picks). Not connected: a connected
   * socket carries a random per-socket hash (sk_txhash) on its packets, which Linux ECMP uses instead of the
   * addresses and ports when it forwards them on the same machine, so the same ports would not keep a flow
   * on one path; and it reports the destination's port-unreachable as an error on the next send.
   */
  async openFlow(flow: number, dst: string, dstPort = DEFAULT_UDP_PORT, srcPort = 0): Promise<number> {
    const existing = this.sockets.get(flow);
    if (existing) return existing.port;
    // reuseAddr: two traces at once may keep the same source port (a worker's flow per target is a hash of it,
    // and two targets can hash alike); replies come back on the raw ICMP socket, matched by destination too.
    const socket = dgram.createSocket({ type: 'udp4', lookup: literalLookup, reuseAddr: true });
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err) => {
        socket.close();
        reject(err);
      });
      socket.bind(srcPort, () => {
        socket.removeAllListeners('error');
        socket.on('error', () => {});
        resolve();
      });
    });
    const entry: FlowSocket = { socket, port: socket.address().port, dst, dstPort, queue: Promise.resolve() };
    this.sockets.set(flow, entry);
    return entry.port;
  }

  /**
   * One probe on an open flow with `ttl`; `probeId` (0-1000) sets its length. Resolves with
   * the router's time-exceeded, the destination's port-unreachable, or undefined after `timeoutMs`.
   */
  probe(flow: number, opts: { ttl: number; probeId: number; timeoutMs?: number }): Promise<ProbeReply | undefined> {
    const entry = this.sockets.get(flow);
    if (!entry) return Promise.reject(new Error(`UDP flow ${flow} is not open`));
    const payload = Buffer.alloc(12 + opts.probeId, 0x68);
    const key = `${entry.dst}|${entry.port}|${entry.dstPort}|${8 + payload.length}`;
    return this.pending.run(key, opts.timeoutMs ?? 1_000, (sending) => {
      const sent = entry.queue.then(
        () =>
          new Promise<bigint>((resolve, reject) => {
            entry.socket.setTTL(opts.ttl);
            sending();
            entry.socket.send(payload, entry.dstPort, entry.dst, (err) =>
              err ? reject(err) : resolve(process.hrtime.bigint()),
            );
          }),
      );
      entry.queue = sent.catch(() => {});
      return sent;
    });
  }

  /** Closes the socket of a finished flow. */
  endFlow(flow: number): void {
    this.sockets.get(flow)?.socket.close();
    this.sockets.delete(flow);
  }

  close(): void {
    this.unlisten();
    this.pending.cancelAll();
    for (const flow of [...this.sockets.keys()]) this.endFlow(flow);
  }
}

export const isPortUnreachable = (r: ProbeReply) => r.icmpType === ICMP_DEST_UNREACHABLE && r.icmpCode === 3;
