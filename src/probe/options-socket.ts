import { createRequire } from 'node:module';
import { parseIcmpPacket, type IcmpMessage } from './icmp-packets.js';
import { RawSocketUnavailable } from './icmp-socket.js';

const require = createRequire(import.meta.url);

interface RawSocket {
  on(event: 'message', cb: (buf: Buffer, source: string) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, address: string, before: () => void, after: (err: Error | null, bytes: number) => void): void;
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

export type RawIcmpListener = (msg: IcmpMessage, packet: Buffer, receivedAt: bigint) => void;

const NO_OPTIONS = Buffer.alloc(0);
/** Never equal to real options: forces the next send to set them. */
const UNKNOWN = Buffer.from([0xff]);

/**
 * A raw ICMP socket of its own for probes that carry IP options (record route, timestamps): IP_OPTIONS is a
 * socket option, so probes sharing the worker's socket would carry whatever was set last. Options and TTL
 * are set right before each packet leaves (sends leave in order), and listeners get the whole packet,
 * IP header included, to read the options that came back.
 */
export class OptionsIcmpSocket {
  private readonly listeners = new Set<RawIcmpListener>();
  private closed = false;
  private ttl = -1;
  private options: Buffer = NO_OPTIONS;
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

  static open(): OptionsIcmpSocket {
    let raw: RawModule;
    try {
      raw = require('raw-socket') as RawModule;
    } catch (err) {
      throw new RawSocketUnavailable(`raw-socket is not built on this machine: ${(err as Error).message}`);
    }
    try {
      return new OptionsIcmpSocket(raw.createSocket({ protocol: raw.Protocol.ICMP }), raw);
    } catch (err) {
      throw new RawSocketUnavailable(`cannot open a raw ICMP socket (needs root or CAP_NET_RAW): ${(err as Error).message}`);
    }
  }

  listen(listener: RawIcmpListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends one ICMP packet with `ttl` and IP `options` (none when empty); resolves when it left. */
  send(packet: Buffer, dst: string, opts: { ttl: number; options?: Buffer }, sending?: () => void): Promise<bigint> {
    if (this.closed) return Promise.reject(this.failure ?? new Error('ICMP options socket is closed'));
    const options = opts.options ?? NO_OPTIONS;
    return new Promise((resolve, reject) => {
      this.socket.send(
        packet,
        0,
        packet.length,
        dst,
        () => {
          const { IPPROTO_IP } = this.raw.SocketLevel;
          try {
            if (opts.ttl !== this.ttl) {
              this.socket.setOption(IPPROTO_IP, this.raw.SocketOption.IP_TTL, opts.ttl);
              this.ttl = opts.ttl;
            }
            if (!options.equals(this.options)) {
              // A zero length clears the options; the buffer itself must not be empty for raw-socket.
              this.socket.setOption(IPPROTO_IP, this.raw.SocketOption.IP_OPTIONS, options.length > 0 ? options : Buffer.alloc(4), options.length);
              this.options = options;
            }
          } catch (err) {
            // The packet leaves anyway (a send cannot be withdrawn here): the next send sets both again.
            this.ttl = -1;
            this.options = UNKNOWN;
            this.failure = err as Error;
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
