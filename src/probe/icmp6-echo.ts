import { createRequire } from 'node:module';
import { randomInt } from 'node:crypto';
import { formatAddress, parseAddress } from '../net/ip-address.js';
import type { RawSocket } from './icmp-socket.js';
import { PendingProbes } from './pending-probes.js';
import { ProbeSendError, sendFailure, type ProbeReply } from './probe-reply.js';

const require = createRequire(import.meta.url);

const ICMP6_ECHO_REQUEST = 128;
const ICMP6_ECHO_REPLY = 129;

interface Raw6Module {
  createSocket(opts: { protocol: number; addressFamily: number }): RawSocket;
  Protocol: { ICMPv6: number };
  AddressFamily: { IPv6: number };
  SocketLevel: { IPPROTO_IPV6: number };
  SocketOption: { IPV6_UNICAST_HOPS: number };
}

/**
 * ICMPv6 echo (ping) on a raw ICMPv6 socket of raw-socket. The kernel fills in the ICMPv6 checksum (it covers
 * a pseudo-header with the source address) and hands over ICMPv6 messages without their IPv6 header, the
 * sender's address beside. Replies are matched by (source, identifier, sequence), the identifier random per
 * prober, as for IPv4.
 */
export class Icmp6Echo {
  readonly id = randomInt(1, 0xffff);
  private seq = randomInt(0, 0xffff);
  private readonly pending = new PendingProbes();
  private closed = false;
  private failure?: Error;

  private constructor(private readonly socket: RawSocket) {
    socket.on('message', (buf, source) => {
      const at = process.hrtime.bigint();
      if (buf.length < 8 || buf[0] !== ICMP6_ECHO_REPLY || buf.readUInt16BE(4) !== this.id) return;
      const key = `${source}|${buf.readUInt16BE(6)}`;
      this.pending.settle(key, at, (rttUs) => ({ from: source, rttUs, icmpType: ICMP6_ECHO_REPLY, icmpCode: 0 }));
    });
    socket.on('error', (err) => {
      this.failure = err;
      this.closed = true;
    });
  }

  /** Opens the socket, or says why it cannot be had (no root or CAP_NET_RAW, no IPv6 in the kernel). */
  static open(): Icmp6Echo | ProbeSendError {
    try {
      const raw = require('raw-socket') as Raw6Module;
      const socket = raw.createSocket({ protocol: raw.Protocol.ICMPv6, addressFamily: raw.AddressFamily.IPv6 });
      socket.setOption(raw.SocketLevel.IPPROTO_IPV6, raw.SocketOption.IPV6_UNICAST_HOPS, 64);
      return new Icmp6Echo(socket);
    } catch (err) {
      return new ProbeSendError('IPv6', `no raw ICMPv6 socket: ${sendFailure(err)}`);
    }
  }

  /** One echo request to `dst`; resolves with the reply, or undefined after `timeoutMs`. */
  echo(dst: string, opts: { timeoutMs?: number } = {}): Promise<ProbeReply | undefined> {
    const seq = (this.seq = (this.seq + 1) & 0xffff);
    const packet = Buffer.alloc(8 + 16);
    packet[0] = ICMP6_ECHO_REQUEST;
    packet.writeUInt16BE(this.id, 4);
    packet.writeUInt16BE(seq, 6);
    packet.write('hopmap-probe6', 8);
    // Replies name the source in the kernel's compressed form: the key must use the same.
    const parsed = parseAddress(dst);
    const key = `${parsed ? formatAddress(parsed) : dst}|${seq}`;
    return this.pending.run(key, opts.timeoutMs ?? 1_000, (sending) => {
      if (this.closed) return Promise.reject(this.failure ?? new Error('ICMPv6 socket is closed'));
      return new Promise<void>((resolve, reject) =>
        this.socket.send(packet, 0, packet.length, dst, sending, (err) => (err ? reject(err) : resolve())),
      );
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.cancelAll();
    this.socket.close();
  }
}
