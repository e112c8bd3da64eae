import { RawIcmp, type RawIcmpListener } from './icmp-socket.js';

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
  private ttl = -1;
  private options: Buffer = NO_OPTIONS;
  private setFailure?: Error;

  private constructor(private readonly socket: RawIcmp) {}

  static open(): OptionsIcmpSocket {
    return new OptionsIcmpSocket(RawIcmp.open());
  }

  /** Why the socket closed, or why setting options last failed. */
  get failure(): Error | undefined {
    return this.socket.failure ?? this.setFailure;
  }

  listen(listener: RawIcmpListener): () => void {
    return this.socket.listen(listener);
  }

  /** Sends one ICMP packet with `ttl` and IP `options` (none when empty); resolves when it left. */
  send(packet: Buffer, dst: string, opts: { ttl: number; options?: Buffer }, sending?: () => void): Promise<bigint> {
    const options = opts.options ?? NO_OPTIONS;
    return this.socket.send(
      packet,
      dst,
      () => {
        try {
          if (opts.ttl !== this.ttl) {
            this.socket.setTtl(opts.ttl);
            this.ttl = opts.ttl;
          }
          if (!options.equals(this.options)) {
            this.socket.setIpOptions(options);
            this.options = options;
          }
        } catch (err) {
          // The packet leaves anyway (a send cannot be withdrawn here): the next send sets both again.
          this.ttl = -1;
          this.options = UNKNOWN;
          this.setFailure = err as Error;
        }
        sending?.();
      },
      'ICMP options socket',
    );
  }

  close(): void {
    this.socket.close();
  }
}
