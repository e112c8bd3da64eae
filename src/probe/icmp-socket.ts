import { createRequire } from 'node:module';
import { parseIcmpPacket, type IcmpMessage } from './icmp-packets.js';

const require = createRequire(import.meta.url);

/** A socket of raw-socket (IPv4 or IPv6, any protocol), as the probers use it. */
export interface RawSocket {
  on(event: 'message', cb: (buf: Buffer, source: string) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  send(
    buf: Buffer,
    offset: number,
    length: number,
    address: string,
    before: () => void,
    after: (err: Error | null, bytes: number) => void,
  ): void;
  setOption(level: number, option: number, value: number): void;
  setOption(level: number, option: number, value: Buffer, length: number): void;
  close(): void;
}
interface RawModule {
  createSocket(opts: { protocol: number }): RawSocket;
  Protocol: { ICMP: number };
  SocketLevel: { IPPROTO_IP: number };
  SocketOption: { IP_TTL: number; IP_OPTIONS: number };
}

/** Raised when the process may not open raw sockets (no root, no CAP_NET_RAW). */
export class RawSocketUnavailable extends Error {
  override name = 'RawSocketUnavailable';
}

/** An ICMP message received, the whole packet it came in (IP header included), and its monotonic receive time. */
export type RawIcmpListener = (msg: IcmpMessage, packet: Buffer, receivedAt: bigint) => void;

/**
 * One raw ICMP socket from raw-socket, shared by IcmpSocket and OptionsIcmpSocket: opening it, parsing what
 * arrives for the listeners, and keeping the failure that closed it. IP-level options (TTL, IP_OPTIONS) are
 * set in `send`'s `before`, which runs just before the packet leaves: sends leave in order, so the value set
 * last is the one the packet carries.
 */
export class RawIcmp {
  private readonly listeners = new Set<RawIcmpListener>();
  private closed = false;
  /** Set when the socket failed (raw-socket closes it then): every later send fails with it, visibly. */
  failure?: Error;

  private constructor(
    private readonly socket: RawSocket,
    private readonly raw: RawModule,
  ) {
    socket.on('message', (buf) => {
      const at = process.hrtime.bigint();
      const msg = parseIcmpPacket(buf);
      if (msg) for (const l of this.listeners) l(msg, buf, at);
    });
    socket.on('error', (err) => {
      this.failure = err;
      this.closed = true;
    });
  }

  static open(): RawIcmp {
    let raw: RawModule;
    try {
      raw = require('raw-socket') as RawModule;
    } catch (err) {
      throw new RawSocketUnavailable(`raw-socket is not built on this machine: ${(err as Error).message}`);
    }
    try {
      return new RawIcmp(raw.createSocket({ protocol: raw.Protocol.ICMP }), raw);
    } catch (err) {
      throw new RawSocketUnavailable(
        `cannot open a raw ICMP socket (needs root or CAP_NET_RAW): ${(err as Error).message}`,
      );
    }
  }

  listen(listener: RawIcmpListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends one packet; resolves with the monotonic time just after it left, or rejects. */
  send(packet: Buffer, dst: string, before: () => void, name = 'ICMP socket'): Promise<bigint> {
    if (this.closed) return Promise.reject(this.failure ?? new Error(`${name} is closed`));
    return new Promise((resolve, reject) => {
      this.socket.send(packet, 0, packet.length, dst, before, (err) =>
        err ? reject(err) : resolve(process.hrtime.bigint()),
      );
    });
  }

  setTtl(ttl: number): void {
    this.socket.setOption(this.raw.SocketLevel.IPPROTO_IP, this.raw.SocketOption.IP_TTL, ttl);
  }

  /** IP options for the packets sent from now on; an empty buffer clears them. */
  setIpOptions(options: Buffer): void {
    // A zero length clears the options; the buffer itself must not be empty for raw-socket.
    this.socket.setOption(
      this.raw.SocketLevel.IPPROTO_IP,
      this.raw.SocketOption.IP_OPTIONS,
      options.length > 0 ? options : Buffer.alloc(4),
      options.length,
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.socket.close();
  }
}

export type IcmpListener = (msg: IcmpMessage, receivedAt: bigint) => void;

/**
 * The process's raw ICMP socket: sends ICMP packets with a per-packet TTL and hands every ICMP message
 * received (echo replies and the errors that answer UDP and TCP probes too) to its listeners, stamped
 * with a monotonic receive time.
 */
export class IcmpSocket {
  private ttl = -1;

  private constructor(private readonly socket: RawIcmp) {}

  static open(): IcmpSocket {
    return new IcmpSocket(RawIcmp.open());
  }

  get failure(): Error | undefined {
    return this.socket.failure;
  }

  listen(listener: IcmpListener): () => void {
    return this.socket.listen((msg, _packet, at) => listener(msg, at));
  }

  /** Sends one ICMP packet with `ttl`; resolves with the monotonic time just after it left, or rejects. */
  send(packet: Buffer, dst: string, ttl: number, sending?: () => void): Promise<bigint> {
    return this.socket.send(packet, dst, () => {
      // Skip the syscall when the TTL in force is already the one wanted.
      if (ttl !== this.ttl) {
        this.socket.setTtl(ttl);
        this.ttl = ttl;
      }
      sending?.();
    });
  }

  close(): void {
    this.socket.close();
  }
}
