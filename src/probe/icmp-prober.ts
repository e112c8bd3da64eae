import { randomInt } from 'node:crypto';
import { buildEchoRequest, ICMP_ECHO_REPLY } from './icmp-packets.js';
import type { IcmpSocket } from './icmp-socket.js';
import { PendingProbes } from './pending-probes.js';
import { replyFromIcmp, type ProbeReply } from './probe-reply.js';

/**
 * ICMP echo probes, each matched to its reply by destination, identifier and sequence (for ICMP errors, by
 * the probe the router quoted), so concurrent probes, and other processes probing the same targets, never
 * take each other's replies. The identifier is random per prober: every raw ICMP socket on the host sees
 * every ICMP packet, and the identifier is what tells ours apart.
 */
export class IcmpProber {
  readonly id = randomInt(1, 0xffff);
  private seq = randomInt(0, 0xffff);
  private readonly pending = new PendingProbes();
  private readonly unlisten: () => void;

  constructor(private readonly socket: IcmpSocket) {
    this.unlisten = socket.listen((msg, at) => {
      let key: string | undefined;
      if (msg.type === ICMP_ECHO_REPLY && msg.echo?.id === this.id) key = `${msg.from}|${msg.echo.seq}`;
      else if (msg.quoted?.protocol === 1 && msg.quoted.icmp?.id === this.id)
        key = `${msg.quoted.dst}|${msg.quoted.icmp.seq}`;
      if (key) this.pending.settle(key, at, (rttUs) => replyFromIcmp(msg, rttUs));
    });
  }

  /**
   * Sends one echo request to `dst` (with `ttl`, and a fixed ICMP checksum when given, for Paris
   * traceroute) and resolves with the answer, or undefined after `timeoutMs`.
   */
  echo(
    dst: string,
    opts: { ttl?: number; timeoutMs?: number; checksum?: number; payloadSize?: number } = {},
  ): Promise<ProbeReply | undefined> {
    const seq = (this.seq = (this.seq + 1) & 0xffff);
    const packet = buildEchoRequest({ id: this.id, seq, checksum: opts.checksum, payloadSize: opts.payloadSize });
    return this.pending.run(`${dst}|${seq}`, opts.timeoutMs ?? 1_000, (sending) =>
      this.socket.send(packet, dst, opts.ttl ?? 64, sending),
    );
  }

  close(): void {
    this.unlisten();
    this.pending.cancelAll();
  }
}
