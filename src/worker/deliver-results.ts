import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../log/create-logger.js';
import type { ResultSink, SendOutcome } from './result-sinks.js';
import type { ResultSpool, SpoolBatch } from './result-spool.js';

export interface DeliveryOptions {
  spool: ResultSpool;
  sink: ResultSink;
  log: Logger;
  /** Items per batch (default 500). */
  batchSize?: number;
  /** Bytes per batch (default 5 MiB, half the output service's default 10 MB body limit). */
  maxBatchBytes?: number;
  /** Backoff after the first failure is drawn from 0..baseDelayMs, doubling per failure (default 500). */
  baseDelayMs?: number;
  /** Backoff ceiling, and the pause between attempts while the receiver refuses this worker (default 60 s). */
  maxDelayMs?: number;
  /** A longer Retry-After is cut to this (default 15 min). */
  maxRetryAfterMs?: number;
  /** After idling, wait this long for more results so a trickle goes out in batches (default 500 ms). */
  lingerMs?: number;
  /** Injected in tests; must resolve (not reject) when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

export interface DeliveryStats {
  delivered: number;
  /** Items the receiver refused for good; logged one by one, never sent again. */
  rejected: number;
  failedAttempts: number;
  consecutiveFailures: number;
  lastError?: string;
  lastSuccessAt?: number;
  backlog: number;
  spooledBytes: number;
  dropped: number;
}

const realSleep = (ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }).catch(() => {});

/**
 * Drains the spool to the sink in order: peek a batch, send it, acknowledge it when the receiver has it.
 * Delivery is at least once (a batch sent but not acknowledged before a crash is sent again); the
 * receiver de-duplicates by result id. See docs/worker-delivery.md.
 */
export class ResultDelivery {
  private readonly opts: Required<Omit<DeliveryOptions, 'spool' | 'sink' | 'log'>>;
  private readonly counts = { delivered: 0, rejected: 0, failedAttempts: 0, consecutiveFailures: 0 };
  private lastError?: string;
  private lastSuccessAt?: number;
  private running?: Promise<void>;
  private stopped?: Promise<void>;
  private unsubscribe?: () => void;
  /** Aborted by stop(): cuts idling and backoff short to flush. */
  private readonly stopping = new AbortController();
  /** Aborted when the flush time is up: cuts everything, including a send in flight. */
  private readonly deadline = new AbortController();
  private appended = false;
  private wake?: () => void;

  private readonly spool: ResultSpool;
  private readonly sink: ResultSink;
  private readonly log: Logger;

  constructor({ spool, sink, log, ...opts }: DeliveryOptions) {
    this.spool = spool;
    this.sink = sink;
    this.log = log;
    this.opts = {
      batchSize: opts.batchSize ?? 500,
      maxBatchBytes: opts.maxBatchBytes ?? 5 * 1024 * 1024,
      baseDelayMs: opts.baseDelayMs ?? 500,
      maxDelayMs: opts.maxDelayMs ?? 60_000,
      maxRetryAfterMs: opts.maxRetryAfterMs ?? 15 * 60_000,
      lingerMs: opts.lingerMs ?? 500,
      sleep: opts.sleep ?? realSleep,
      random: opts.random ?? Math.random,
      now: opts.now ?? Date.now,
    };
  }

  get stats(): DeliveryStats {
    return {
      ...this.counts,
      ...(this.lastError !== undefined && { lastError: this.lastError }),
      ...(this.lastSuccessAt !== undefined && { lastSuccessAt: this.lastSuccessAt }),
      backlog: this.spool.depth,
      spooledBytes: this.spool.bytes,
      dropped: this.spool.dropped,
    };
  }

  /** Starts the loop; a delivery runs once (after stop(), open a new one). */
  start(): void {
    if (this.running || this.stopping.signal.aborted) return;
    this.unsubscribe = this.spool.onAppend(() => {
      this.appended = true;
      this.wake?.();
    });
    this.log.info({ output: this.sink.describe(), backlog: this.spool.depth }, 'delivering results');
    this.running = this.run().catch((err: unknown) => this.log.error({ err }, 'result delivery stopped by a bug; results stay spooled'));
  }

  /** Stops taking breaks and sends what it can for up to `flushTimeoutMs`; what is left stays spooled for the next start. */
  stop({ flushTimeoutMs = 5_000 }: { flushTimeoutMs?: number } = {}): Promise<void> {
    this.stopped ??= this.finish(flushTimeoutMs);
    return this.stopped;
  }

  private async finish(flushTimeoutMs: number): Promise<void> {
    this.stopping.abort();
    if (!this.running) return;
    const timer = setTimeout(() => this.deadline.abort(), flushTimeoutMs);
    this.wake?.();
    try {
      await this.running;
    } finally {
      clearTimeout(timer);
      this.unsubscribe?.();
    }
    const backlog = this.spool.depth;
    this.log.info({ delivered: this.counts.delivered, backlog }, backlog ? 'delivery stopped; the rest stays spooled' : 'delivery stopped; everything delivered');
  }

  private async run(): Promise<void> {
    let failures = 0;
    let limit = this.opts.batchSize;
    while (!this.deadline.signal.aborted) {
      try {
        this.appended = false;
        const batch = await this.spool.peek(limit, this.opts.maxBatchBytes);
        if (batch.items.length === 0) {
          await this.spool.ack(batch.token); // passes over lines that were not JSON
          if (this.stopping.signal.aborted) return;
          await this.idle();
          if (!this.stopping.signal.aborted) await this.pause(this.opts.lingerMs);
          continue;
        }
        if (this.deadline.signal.aborted) return;
        const outcome = await this.send(batch);
        if (outcome.ok) {
          await this.acknowledge(batch, outcome);
          failures = 0;
          limit = Math.min(this.opts.batchSize, limit * 2);
          continue;
        }
        if (outcome.permanent === 'batch' && batch.items.length > 1) {
          // Too large (413): halve until it fits; a success doubles the size again.
          limit = Math.ceil(batch.items.length / 2);
          this.log.warn({ items: batch.items.length, bytes: batch.bytes, reason: outcome.reason }, 'batch refused as too large; sending smaller batches');
          continue;
        }
        if (outcome.permanent === 'batch') {
          await this.acknowledge(batch, { ok: true, rejected: [{ index: 0, error: outcome.reason }] });
          continue;
        }
        await this.pause(this.recordFailure(outcome, failures++));
      } catch (err) {
        // A disk error in the spool: nothing is lost by waiting, and the worker keeps measuring.
        await this.pause(this.recordFailure({ ok: false, reason: `result spool: ${(err as Error).message}` }, failures++));
      }
    }
  }

  private async send(batch: SpoolBatch): Promise<SendOutcome> {
    try {
      return await this.sink.send(batch.items, this.deadline.signal);
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  }

  private async acknowledge(batch: SpoolBatch, outcome: { ok: true; rejected?: Array<{ index: number; error: unknown }> }): Promise<void> {
    await this.spool.ack(batch.token);
    if (this.counts.consecutiveFailures > 0) this.log.info({ failedAttempts: this.counts.consecutiveFailures }, 'delivery recovered');
    const rejected = outcome.rejected ?? [];
    for (const { index, error } of rejected) {
      this.log.error({ id: (batch.items[index] as { id?: unknown } | undefined)?.id, error }, 'the receiver rejected a result; it will not be sent again');
    }
    this.counts.delivered += batch.items.length - rejected.length;
    this.counts.rejected += rejected.length;
    this.counts.consecutiveFailures = 0;
    this.lastSuccessAt = this.opts.now();
  }

  /** The pause before the next attempt: "full jitter" exponential backoff, at least what Retry-After asks. */
  private recordFailure(outcome: Extract<SendOutcome, { ok: false }>, failures: number): number {
    this.counts.failedAttempts++;
    this.counts.consecutiveFailures++;
    this.lastError = outcome.reason;
    if (outcome.permanent === 'receiver') {
      this.log.error({ output: this.sink.describe(), reason: outcome.reason }, 'the receiver refuses this worker; results stay spooled until it is fixed');
      return this.opts.maxDelayMs;
    }
    const backoff = Math.round(this.opts.random() * Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** failures));
    const wait = Math.max(backoff, Math.min(outcome.retryAfterMs ?? 0, this.opts.maxRetryAfterMs));
    this.log[failures === 0 ? 'warn' : 'debug']({ reason: outcome.reason, attempt: failures + 1, retryInMs: wait, backlog: this.spool.depth }, 'delivery failed; results stay spooled');
    return wait;
  }

  /** Until results are appended or stop() is called. */
  private idle(): Promise<void> {
    if (this.appended || this.stopping.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** A break that stop() cuts short; while flushing, only the flush deadline does. */
  private pause(ms: number): Promise<void> {
    const signal = this.stopping.signal.aborted ? this.deadline.signal : this.stopping.signal;
    if (ms <= 0 || signal.aborted) return Promise.resolve();
    return this.opts.sleep(ms, signal);
  }
}
