import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { buildEchoRequest, ICMP_DEST_UNREACHABLE, ICMP_ECHO_REPLY } from './icmp-packets.js';
import {
  buildPrespecifiedTimestamp,
  buildRecordRoute,
  ipIdOf,
  quotedOptions,
  receivedOptions,
  type IpOptions,
} from './ip-options.js';
import type { OptionsIcmpSocket } from './options-socket.js';
import { PendingProbes } from './pending-probes.js';
import { replyFromIcmp, type ProbeReply } from './probe-reply.js';

/** An answer to an alias probe, with what the IP headers said. */
export type AliasReply = ProbeReply & {
  /** The options of the answer's own IP header. */
  options: IpOptions;
  /** The options of our probe's header as an ICMP error quoted it. */
  quoted: IpOptions;
  ipId: number;
};

/** Mercator's ports: above the traceroute range, where nothing listens. */
const MERCATOR_PORT_BASE = 33_535;
const MERCATOR_PORTS = 400;

/**
 * The probes of alias resolution, on a raw ICMP socket of their own (see OptionsIcmpSocket) and one UDP
 * socket for Mercator. Every method sends exactly one packet: the caller takes a pacer slot before each.
 */
export class AliasProber {
  readonly id = randomInt(1, 0xffff);
  private seq = randomInt(0, 0xffff);
  private udpPort = randomInt(0, MERCATOR_PORTS);
  private readonly pending = new PendingProbes();
  private readonly unlisten: () => void;
  private udp?: Promise<{ socket: dgram.Socket; port: number }>;

  constructor(private readonly socket: OptionsIcmpSocket) {
    this.unlisten = socket.listen((msg, packet, at) => {
      let key: string | undefined;
      if (msg.type === ICMP_ECHO_REPLY && msg.echo?.id === this.id) key = `icmp|${msg.from}|${msg.echo.seq}`;
      else if (msg.quoted?.protocol === 1 && msg.quoted.icmp?.id === this.id)
        key = `icmp|${msg.quoted.dst}|${msg.quoted.icmp.seq}`;
      else if (msg.type === ICMP_DEST_UNREACHABLE && msg.quoted?.protocol === 17 && msg.quoted.ports)
        key = `udp|${msg.quoted.dst}|${msg.quoted.ports.src}|${msg.quoted.ports.dst}`;
      if (!key) return;
      this.pending.settle(
        key,
        at,
        (rttUs) =>
          ({
            ...replyFromIcmp(msg, rttUs),
            options: receivedOptions(packet),
            quoted: quotedOptions(packet),
            ipId: ipIdOf(packet),
          }) as AliasReply,
      );
    });
  }

  /** One echo request with IP options; `checksum` keeps a Paris flow. */
  echo(
    dst: string,
    opts: { ttl?: number; options?: Buffer; checksum?: number; timeoutMs?: number } = {},
  ): Promise<AliasReply | undefined> {
    const seq = (this.seq = (this.seq + 1) & 0xffff);
    const packet = buildEchoRequest({ id: this.id, seq, checksum: opts.checksum });
    const sent = this.pending.run(`icmp|${dst}|${seq}`, opts.timeoutMs ?? 1_000, (sending) =>
      this.socket.send(packet, dst, { ttl: opts.ttl ?? 64, options: opts.options }, sending),
    );
    return sent as Promise<AliasReply | undefined>;
  }

  /**
   * DisCarte: an echo with the record-route option, expiring at `ttl` on the Paris flow `checksum`. The list
   * comes from the header the router quoted, or from the echo reply's own header at the destination.
   */
  async recordRoute(
    dst: string,
    ttl: number,
    checksum: number,
    timeoutMs?: number,
  ): Promise<{ from: string | null; icmpType?: number; recorded: string[] }> {
    const r = await this.echo(dst, { ttl, checksum, options: buildRecordRoute(), timeoutMs });
    if (!r) return { from: null, recorded: [] };
    const recorded = (r.icmpType === ICMP_ECHO_REPLY ? r.options.recordRoute : r.quoted.recordRoute) ?? [];
    return { from: r.from, icmpType: r.icmpType, recorded };
  }

  /**
   * Prespecified timestamps: an echo to `address` asking `prespecified` to stamp, in order. null when no
   * reply came from `address`; an empty list when the reply came back without the option.
   */
  async timestamps(address: string, prespecified: string[], timeoutMs?: number): Promise<boolean[] | null> {
    const r = await this.echo(address, { options: buildPrespecifiedTimestamp(prespecified), timeoutMs });
    if (!r || r.icmpType !== ICMP_ECHO_REPLY) return null;
    return (r.options.timestamps ?? []).map((t) => t.stamped);
  }

  /** Ally: a plain echo to `address`; the IP-ID of its reply, or null. */
  async ipId(address: string, timeoutMs?: number): Promise<number | null> {
    const r = await this.echo(address, { timeoutMs });
    return r && r.icmpType === ICMP_ECHO_REPLY ? r.ipId : null;
  }

  /** Mercator: a UDP datagram to an unused port of `address`; who sent the port unreachable, or null. */
  async mercator(address: string, timeoutMs = 1_000): Promise<string | null> {
    const { socket, port } = await this.udpSocket();
    const dstPort = MERCATOR_PORT_BASE + (this.udpPort = (this.udpPort + 1) % MERCATOR_PORTS);
    const r = await this.pending.run(
      `udp|${address}|${port}|${dstPort}`,
      timeoutMs,
      (sending) =>
        new Promise<void>((resolve, reject) => {
          sending();
          socket.send(Buffer.from('hopmap-alias'), dstPort, address, (err) => (err ? reject(err) : resolve()));
        }),
    );
    return r && r.icmpType === ICMP_DEST_UNREACHABLE && r.icmpCode === 3 ? r.from : null;
  }

  private udpSocket(): Promise<{ socket: dgram.Socket; port: number }> {
    this.udp ??= new Promise((resolve, reject) => {
      // Not connected, so the kernel does not turn the unreachable into an error on the socket.
      const socket = dgram.createSocket({
        type: 'udp4',
        lookup: (a: string, _o: unknown, cb: (e: Error | null, a: string, f: number) => void) => cb(null, a, 4),
      });
      socket.on('error', () => {});
      socket.once('error', reject);
      socket.bind(0, () => resolve({ socket, port: socket.address().port }));
    });
    return this.udp;
  }

  close(): void {
    this.unlisten();
    this.pending.cancelAll();
    void this.udp?.then(({ socket }) => socket.close()).catch(() => {});
  }
}
