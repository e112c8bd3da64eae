import { createRequire } from 'node:module';
import { parseIcmpPacket, type IcmpMessage } from './icmp-packets.js';

const require = createRequire(import.meta.url);

interface RawSocket {
  on(event: 'message', cb: (buf: Buffer, source: string) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, address: string, before: () => void, after: (err: Error | null, bytes: number) => void): void;
  setOption(level: number, option: number, value: number): void;
  close(): void;
}
interface RawModule {
  createSocket(opts: { protocol: number }): RawSocket;
  Protocol: { ICMP: number };
  SocketLevel: { IPPROTO_IP: number };
  SocketOption: { IP_TTL: number };
}

/** Raised when the process may not open raw sockets (no root, no CAP_NET_RAW). */
export class RawSocketUnavailable extends Error {
  override name = 'RawSocketUnavailable';
}

export type IcmpListener = (msg: IcmpMessage, receivedAt: bigint) => void;

/**
 * The process's raw ICMP socket: sends ICMP packets with a per-packet TTL and hands every ICMP message
 * received (echo replies and the errors that answer UDP and TCP probes too) to its listeners, stamped
 * with a monotonic receive time.
 */
export class IcmpSocket {
  private readonly listeners = new Set<IcmpListener>();
  private closed = false;
  private ttl = -1;
  /** Set when the socket failed (raw-socket closes it then): every later send fails with it, visibly. */
  failure?: Error;

  private constructor(
    private readonly socket: RawSocket,
    private readonly raw: RawModule,
  ) {
    socket.on('message', (buf) => {
      const at = process.hrtime.bigint();
      const msg = parseIcmpPacket(buf);
      if (msg) for (const l of this.listeners) l(msg, at);
    });
    socket.on('error', (err) => {
      this.failure = err;
      this.closed = true;
    });
  }

  static open(): IcmpSocket {
    let raw: RawModule;
    try {
      raw = require('raw-socket') as RawModule;
    } catch (err) {
      throw new RawSocketUnavailable(`raw-socket is not built on this machine: ${(err as Error).message}`);
    }
    try {
      return new IcmpSocket(raw.createSocket({ protocol: raw.Protocol.ICMP }), raw);
    } catch (err) {
      throw new RawSocketUnavailable(`cannot open a raw ICMP socket (needs root or CAP_NET_RAW): ${(err as Error).message}`);
    }
  }

  listen(listener: IcmpListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends one ICMP packet with `ttl`; resolves with the monotonic time just after it left, or rejects. */
  send(packet: Buffer, dst: string, ttl: number, sending?: () => void): Promise<bigint> {
    if (this.closed) return Promise.reject(this.failure ?? new Error('ICMP socket is closed'));
    return new Promise((resolve, reject) => {
      this.socket.send(
        packet,
        0,
        packet.length,
        dst,
        () => {
          // Sends leave in order, so the option set last is the one in force; skip the syscall when unchanged.
          if (ttl !== this.ttl) {
            this.socket.setOption(this.raw.SocketLevel.IPPROTO_IP, this.raw.SocketOption.IP_TTL, ttl);
            this.ttl = ttl;
          }
          sending?.();
        },
        (err) => (err ? reject(err) : resolve(process.hrtime.bigint())),
      );
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.socket.close();
  }
}
