import { createRequire } from 'node:module';
import { randomInt } from 'node:crypto';
import type { IcmpSocket, RawSocket } from './icmp-socket.js';
import { RawSocketUnavailable } from './icmp-socket.js';
import { PendingProbes } from './pending-probes.js';
import { replyFromIcmp, type ProbeReply } from './probe-reply.js';
import { sourceAddressFor } from './source-address.js';
import { buildTcpSyn, parseTcpSegment } from './tcp-packets.js';

const require = createRequire(import.meta.url);

/**
 * TCP SYN probes on a raw TCP socket, for tcp-syn traceroute: the ports are the flow identifier and stay
 * constant; probes are told apart by their sequence number, which routers quote back (the first 8 bytes
 * of the TCP header) and the destination acknowledges (SYN-ACK) or answers with RST. The kernel resets the
 * half-open connection a SYN-ACK would leave, since no socket owns the port.
 */
export class TcpProber {
  private readonly pending = new PendingProbes();
  private readonly unlisten: () => void;
  private readonly raw: { SocketLevel: { IPPROTO_IP: number }; SocketOption: { IP_TTL: number } };
  private readonly socket: RawSocket;

  constructor(icmp: IcmpSocket) {
    try {
      const raw = require('raw-socket') as {
        createSocket(o: { protocol: number }): RawSocket;
        SocketLevel: { IPPROTO_IP: number };
        SocketOption: { IP_TTL: number };
      };
      this.raw = raw;
      this.socket = raw.createSocket({ protocol: 6 });
    } catch (err) {
      throw new RawSocketUnavailable(
        `cannot open a raw TCP socket (needs root or CAP_NET_RAW): ${(err as Error).message}`,
      );
    }
    this.socket.on('error', () => {});
    this.socket.on('message', (buf) => {
      const at = process.hrtime.bigint();
      const seg = parseTcpSegment(buf);
      if (!seg || !(seg.rst || (seg.syn && seg.ackFlag))) return;
      // A SYN-ACK or RST acknowledges our sequence + 1.
      const key = `${seg.src}|${seg.dstPort}|${seg.srcPort}|${(seg.ack - 1) >>> 0}`;
      this.pending.settle(key, at, (rttUs) => ({
        from: seg.src,
        rttUs,
        replyTtl: seg.ttl,
        tcpFlags: seg.rst ? 'rst' : 'syn-ack',
      }));
    });
    this.unlisten = icmp.listen((msg, at) => {
      const q = msg.quoted;
      if (q?.protocol !== 6 || !q.ports || q.tcpSeq === undefined) return;
      this.pending.settle(`${q.dst}|${q.ports.src}|${q.ports.dst}|${q.tcpSeq >>> 0}`, at, (rttUs) =>
        replyFromIcmp(msg, rttUs),
      );
    });
  }

  /** A source port for a new flow, away from the kernel's ephemeral range. */
  static flowPort(): number {
    return randomInt(20_000, 32_000);
  }

  async probe(
    dst: string,
    opts: { srcPort: number; dstPort: number; ttl: number; timeoutMs?: number },
  ): Promise<ProbeReply | undefined> {
    const src = await sourceAddressFor(dst);
    const seq = randomInt(0, 2 ** 32 - 1);
    const segment = buildTcpSyn({ src, dst, srcPort: opts.srcPort, dstPort: opts.dstPort, seq });
    return this.pending.run(
      `${dst}|${opts.srcPort}|${opts.dstPort}|${seq}`,
      opts.timeoutMs ?? 1_000,
      (sending) =>
        new Promise<bigint>((resolve, reject) =>
          this.socket.send(
            segment,
            0,
            segment.length,
            dst,
            () => {
              this.socket.setOption(this.raw.SocketLevel.IPPROTO_IP, this.raw.SocketOption.IP_TTL, opts.ttl);
              sending();
            },
            (err) => (err ? reject(err) : resolve(process.hrtime.bigint())),
          ),
        ),
    );
  }

  close(): void {
    this.unlisten();
    this.pending.cancelAll();
    this.socket.close();
  }
}
