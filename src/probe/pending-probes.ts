import { microseconds, type ProbeReply } from './probe-reply.js';

interface Pending {
  sentAt?: bigint;
  resolve: (reply: ProbeReply | undefined) => void;
  timer: NodeJS.Timeout;
}

/** Probes in flight by key: each resolves once, with its answer or (after its timeout) undefined. */
export class PendingProbes {
  private readonly pending = new Map<string, Pending>();

  get size(): number {
    return this.pending.size;
  }

  /**
   * `send` calls `sending()` right before the packet goes out (a provisional send time, so an answer that
   * beats the send callback, microseconds on a LAN, is still matched) and resolves with the time just after.
   */
  run(key: string, timeoutMs: number, send: (sending: () => void) => Promise<bigint>): Promise<ProbeReply | undefined> {
    return new Promise((resolve) => {
      const entry: Pending = {
        resolve,
        timer: setTimeout(() => this.finish(key, undefined), timeoutMs),
      };
      this.pending.get(key)?.resolve(undefined);
      this.pending.set(key, entry);
      send(() => {
        entry.sentAt = process.hrtime.bigint();
      }).then(
        (sentAt) => {
          entry.sentAt = sentAt;
        },
        () => this.finish(key, undefined),
      );
    });
  }

  settle(key: string, receivedAt: bigint, build: (rttUs: number) => ProbeReply): void {
    const entry = this.pending.get(key);
    if (!entry?.sentAt) return;
    this.finish(key, build(microseconds(entry.sentAt, receivedAt)));
  }

  private finish(key: string, reply: ProbeReply | undefined): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    this.pending.delete(key);
    clearTimeout(entry.timer);
    entry.resolve(reply);
  }

  cancelAll(): void {
    for (const key of [...this.pending.keys()]) this.finish(key, undefined);
  }
}
