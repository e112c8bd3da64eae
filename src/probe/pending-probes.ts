import { microseconds, ProbeSendError, sendFailure, type ProbeReply } from './probe-reply.js';

interface Pending {
  sentAt?: bigint;
  resolve: (reply: ProbeReply | undefined) => void;
  reject: (err: ProbeSendError) => void;
  timer: NodeJS.Timeout;
}

/** How long a probe may wait in a socket's send queue before it counts as lost anyway. */
const QUEUE_GRACE_MS = 5_000;

/** Probes in flight by key: each resolves once, with its answer or (after its timeout) undefined. */
export class PendingProbes {
  private readonly pending = new Map<string, Pending>();

  get size(): number {
    return this.pending.size;
  }

  /**
   * `send` calls `sending()` right before the packet goes out: the send time (so the RTT includes no queueing
   * in our process) and the start of the timeout. A key still pending (a wrapped sequence number) is given
   * up first, so its timer can never end the new probe. A send that fails rejects with ProbeSendError.
   */
  run(
    key: string,
    timeoutMs: number,
    send: (sending: () => void) => Promise<unknown>,
  ): Promise<ProbeReply | undefined> {
    const previous = this.pending.get(key);
    if (previous) this.finish(key, undefined, previous);
    return new Promise((resolve, reject) => {
      const entry: Pending = {
        resolve,
        reject,
        timer: setTimeout(() => this.finish(key, undefined, entry), timeoutMs + QUEUE_GRACE_MS),
      };
      this.pending.set(key, entry);
      send(() => {
        entry.sentAt = process.hrtime.bigint();
        clearTimeout(entry.timer);
        entry.timer = setTimeout(() => this.finish(key, undefined, entry), timeoutMs);
      }).catch((err: unknown) => {
        // Never sent: not an unanswered probe. The caller learns why (ProbeSendError).
        if (this.pending.get(key) !== entry) return;
        this.pending.delete(key);
        clearTimeout(entry.timer);
        entry.reject(new ProbeSendError(key.split('|')[0]!, sendFailure(err)));
      });
    });
  }

  settle(key: string, receivedAt: bigint, build: (rttUs: number) => ProbeReply): void {
    const entry = this.pending.get(key);
    if (!entry?.sentAt) return;
    this.finish(key, build(microseconds(entry.sentAt, receivedAt)), entry);
  }

  /** Resolves `entry`, if it is still the one pending under `key`. */
  private finish(key: string, reply: ProbeReply | undefined, entry: Pending): void {
    if (this.pending.get(key) !== entry) return;
    this.pending.delete(key);
    clearTimeout(entry.timer);
    entry.resolve(reply);
  }

  cancelAll(): void {
    for (const [key, entry] of [...this.pending]) this.finish(key, undefined, entry);
  }
}
