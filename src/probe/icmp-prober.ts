import { randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { buildEchoRequest, parseIcmpPacket, ICMP_ECHO_REPLY, type IcmpMessage } from './icmp-packets.js';

const require = createRequire(import.meta.url);

interface RawSocket {
  on(event: 'message', cb: (buf: Buffer, source: string) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, address: string, before: () => void, after: (err: Error | null, bytes: number) => void): void;
  setOption(level: number, option: number, value: number): void;
  close(): void;
}
interface RawModule {
  createSocket(opts: { protocol: number; addressFamily?: number }): RawSocket;
  Protocol: { ICMP: number };
  SocketLevel: { IPPROTO_IP: number };
  SocketOption: { IP_TTL: number };
}

export interface IcmpReply {
  from: string;
  /** Round-trip time in microseconds, from a monotonic clock. */
  rttUs: number;
  type: number;
  code: number;
  replyTtl: number;
  mpls?: IcmpMessage['mpls'];
}

interface Pending {
  sentAt?: bigint;
  resolve: (reply: IcmpReply | undefined) => void;
  timer: NodeJS.Timeout;
}

/** Raised when the process may not open raw sockets (no root, no CAP_NET_RAW). */
export class RawSocketUnavailable extends Error {
  override name = 'RawSocketUnavailable';
}

/**
 * ICMP echo probes on one raw socket, each matched to its reply by destination, identifier and sequence
 * (for ICMP errors, by the probe the router quoted), so concurrent probes, and other processes probing
 * the same targets, never take each other's replies. The identifier is random per prober: every raw ICMP
 * socket on the host sees every ICMP packet, and the identifier is what tells ours apart.
 */
export class IcmpProber {
  readonly id = randomInt(1, 0xffff);
  private seq = randomInt(0, 0xffff);
  private readonly pending = new Map<string, Pending>();
  private closed = false;

  private constructor(private readonly socket: RawSocket, private readonly raw: RawModule) {
    socket.on('message', (buf) => this.onMessage(buf, process.hrtime.bigint()));
    socket.on('error', () => {});
  }

  static open(): IcmpProber {
    let raw: RawModule;
    try {
      raw = require('raw-socket') as RawModule;
    } catch (err) {
      throw new RawSocketUnavailable(`raw-socket is not built on this machine: ${(err as Error).message}`);
    }
    try {
      return new IcmpProber(raw.createSocket({ protocol: raw.Protocol.ICMP }), raw);
    } catch (err) {
      throw new RawSocketUnavailable(`cannot open a raw ICMP socket (needs root or CAP_NET_RAW): ${(err as Error).message}`);
    }
  }

  /**
   * Sends one echo request to `dst` (with `ttl`, and a fixed ICMP checksum when given, for Paris
   * traceroute) and resolves with the reply, or undefined after `timeoutMs`.
   */
  echo(dst: string, opts: { ttl?: number; timeoutMs?: number; checksum?: number; payloadSize?: number } = {}): Promise<IcmpReply | undefined> {
    if (this.closed) return Promise.reject(new Error('prober is closed'));
    const seq = (this.seq = (this.seq + 1) & 0xffff);
    const key = `${dst}|${this.id}|${seq}`;
    const packet = buildEchoRequest({ id: this.id, seq, checksum: opts.checksum, payloadSize: opts.payloadSize });
    return new Promise((resolve) => {
      const entry: Pending = {
        resolve,
        timer: setTimeout(() => {
          this.pending.delete(key);
          resolve(undefined);
        }, opts.timeoutMs ?? 1_000),
      };
      this.pending.set(key, entry);
      const ttl = opts.ttl ?? 64;
      this.socket.send(
        packet,
        0,
        packet.length,
        dst,
        () => this.socket.setOption(this.raw.SocketLevel.IPPROTO_IP, this.raw.SocketOption.IP_TTL, ttl),
        (err) => {
          if (err) {
            clearTimeout(entry.timer);
            this.pending.delete(key);
            resolve(undefined);
            return;
          }
          entry.sentAt = process.hrtime.bigint();
        },
      );
    });
  }

  private onMessage(buf: Buffer, at: bigint): void {
    const msg = parseIcmpPacket(buf);
    if (!msg) return;
    let key: string | undefined;
    if (msg.type === ICMP_ECHO_REPLY && msg.echo?.id === this.id) key = `${msg.from}|${msg.echo.id}|${msg.echo.seq}`;
    else if (msg.quoted?.icmp?.id === this.id) key = `${msg.quoted.dst}|${msg.quoted.icmp.id}|${msg.quoted.icmp.seq}`;
    if (!key) return;
    const entry = this.pending.get(key);
    if (!entry?.sentAt) return;
    this.pending.delete(key);
    clearTimeout(entry.timer);
    entry.resolve({
      from: msg.from,
      rttUs: Number(at - entry.sentAt) / 1_000,
      type: msg.type,
      code: msg.code,
      replyTtl: msg.replyTtl,
      ...(msg.mpls ? { mpls: msg.mpls } : {}),
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.pending.values()) {
      clearTimeout(entry.timer);
      entry.resolve(undefined);
    }
    this.pending.clear();
    this.socket.close();
  }
}
