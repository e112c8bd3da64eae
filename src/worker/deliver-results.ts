import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../log/create-logger.js';
import { PoisonSearch } from './find-poison.js';
import type { ResultAccounts } from './result-ledger.js';
import type { ResultQuarantine } from './result-quarantine.js';
import type { ResultSink, SendOutcome } from './result-sinks.js';
import type { ResultSpool, SpoolBatch } from './result-spool.js';
import { retryQuarantined } from './retry-quarantined.js';

export interface DeliveryOptions {
  spool: ResultSpool;
  sink: ResultSink;
  log: Logger;
  /**
   * Where results the output fails on while it stores others are held aside (find-poison.ts). Without one,
   * a batch that fails with a 5xx is retried as it is, forever.
   */
  quarantine?: ResultQuarantine;
  /** 5xx answers in a row on the same batch before it is searched for a poison result (default 3). */
  poisonPatience?: number;
  /** Quarantined results are tried again this often, doubling while none gets through (default 10 min). */
  quarantineRetryMs?: number;
  /** The longest wait between two tries of the quarantine (default 2 h). */
  quarantineRetryMaxMs?: number;
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

export interface DeliveryStats extends ResultAccounts {
  failedAttempts: number;
  consecutiveFailures: number;
  lastError?: string;
  lastSuccessAt?: number;
  /** When delivery last stored a batch or had nothing to send: an old value with a backlog means delivery is stalled. */
  lastProgressAt: number;
  spooledBytes: number;
}

const realSleep = (ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }).catch(() => {});

/**
 * Drains the spool to the sink in order: peek a batch, send it, acknowledge it when the receiver has it.
 * Delivery is at least once (a batch sent but not acknowledged before a crash is sent again); the
 * receiver de-duplicates by result id. See docs/worker-delivery.md.
 */
export class ResultDelivery {
  private readonly opts: Required<Omit<DeliveryOptions, 'spool' | 'sink' | 'log' | 'quarantine'>>;
  private readonly counts = { failedAttempts: 0, consecutiveFailures: 0 };
  private lastError?: string;
  private lastSuccessAt?: number;
  private lastProgressAt: number;
  private readonly search: PoisonSearch;
  private quarantineDueAt = 0;
  private quarantineWait: number;
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
  private readonly quarantine: ResultQuarantine | undefined;

  constructor({ spool, sink, log, quarantine, ...opts }: DeliveryOptions) {
    this.spool = spool;
    this.sink = sink;
    this.log = log;
    this.quarantine = quarantine;
    this.opts = {
      poisonPatience: opts.poisonPatience ?? 3,
      quarantineRetryMs: opts.quarantineRetryMs ?? 10 * 60_000,
      quarantineRetryMaxMs: opts.quarantineRetryMaxMs ?? 2 * 3_600_000,
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
    this.search = new PoisonSearch(this.opts.poisonPatience);
    this.quarantineWait = this.opts.quarantineRetryMs;
    this.lastProgressAt = this.opts.now();
    // Held from before a restart: tried after the first wait, like newly quarantined ones.
    if (quarantine?.size) this.quarantineDueAt = this.lastProgressAt + this.quarantineWait;
  }

  get stats(): DeliveryStats {
    return {
      ...this.spool.ledger.accounts(this.spool.depth),
      ...this.counts,
      ...(this.lastError !== undefined && { lastError: this.lastError }),
      ...(this.lastSuccessAt !== undefined && { lastSuccessAt: this.lastSuccessAt }),
      lastProgressAt: this.lastProgressAt,
      spooledBytes: this.spool.bytes,
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
    this.running = this.run().catch((err: unknown) =>
      this.log.error({ err }, 'result delivery stopped by a bug; results stay spooled'),
    );
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
    this.log.info(
      { delivered: this.spool.ledger.delivered, backlog },
      backlog ? 'delivery stopped; the rest stays spooled' : 'delivery stopped; everything delivered',
    );
  }

  private async run(): Promise<void> {
    let failures = 0;
    let limit = this.opts.batchSize;
    while (!this.deadline.signal.aborted) {
      try {
        if (this.quarantine?.size && this.opts.now() >= this.quarantineDueAt && !this.stopping.signal.aborted)
          await this.retryQuarantine();
        this.appended = false;
        const batch = await this.spool.peek(this.search.limit(limit), this.opts.maxBatchBytes);
        if (batch.items.length === 0) {
          await this.spool.ack(batch.token); // passes over lines that were not JSON
          this.lastProgressAt = this.opts.now();
          if (this.stopping.signal.aborted) return;
          await this.idle();
          this.lastProgressAt = this.opts.now();
          if (!this.stopping.signal.aborted) await this.pause(this.opts.lingerMs);
          continue;
        }
        if (this.deadline.signal.aborted) return;
        const outcome = await this.send(batch.items);
        if (outcome.ok) {
          await this.acknowledge(batch, outcome);
          this.search.stored(batch.items.length);
          failures = 0;
          limit = Math.min(this.opts.batchSize, limit * 2);
          continue;
        }
        if (outcome.unreachable && this.stopping.signal.aborted) {
          // Shutting down with no output answering: retrying until the flush deadline would only hold the
          // stop back (a host going down stops its output too); the spool keeps the rest for the next start.
          this.recordFailure(outcome, failures);
          return;
        }
        if (outcome.permanent === 'batch' && batch.items.length > 1) {
          // Too large (413): halve until it fits; a success doubles the size again.
          limit = Math.ceil(batch.items.length / 2);
          this.log.warn(
            { items: batch.items.length, bytes: batch.bytes, reason: outcome.reason },
            'batch refused as too large; sending smaller batches',
          );
          continue;
        }
        if (outcome.permanent === 'batch') {
          await this.acknowledge(batch, { ok: true, rejected: [{ index: 0, error: outcome.reason }] });
          continue;
        }
        if (this.quarantine) {
          const step = this.search.failed(batch.items.length, outcome);
          if (step === 'split') {
            this.recordFailure(outcome, failures);
            this.log.warn(
              { items: batch.items.length, reason: outcome.reason },
              'a batch keeps failing with a 5xx: sending it in halves to find the result the output fails on',
            );
            continue;
          }
          if (step === 'probe') {
            if (await this.othersGetThrough(batch)) {
              await this.quarantineBatch(batch, outcome);
              failures = 0;
              continue;
            }
            this.search.reset(); // the output fails on everything: it is down, not poisoned
          }
        }
        await this.pause(this.recordFailure(outcome, failures++));
      } catch (err) {
        // A disk error in the spool: nothing is lost by waiting, and the worker keeps measuring.
        await this.pause(
          this.recordFailure({ ok: false, reason: `result spool: ${(err as Error).message}` }, failures++),
        );
      }
    }
  }

  private async send(items: readonly object[]): Promise<SendOutcome> {
    try {
      return await this.sink.send(items, this.deadline.signal);
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  }

  private async acknowledge(
    batch: SpoolBatch,
    outcome: { ok: true; rejected?: Array<{ index: number; error: unknown }> },
  ): Promise<void> {
    const rejected = outcome.rejected ?? [];
    await this.spool.ack(batch.token, { rejected: rejected.length });
    if (this.counts.consecutiveFailures > 0)
      this.log.info({ failedAttempts: this.counts.consecutiveFailures }, 'delivery recovered');
    for (const { index, error } of rejected) {
      this.log.error(
        { id: (batch.items[index] as { id?: unknown } | undefined)?.id, error },
        'the receiver rejected a result; it will not be sent again',
      );
    }
    this.counts.consecutiveFailures = 0;
    this.lastSuccessAt = this.lastProgressAt = this.opts.now();
  }

  /**
   * Whether the output stores other results while it fails on `suspect`: up to three single results from
   * further on (the next, a middle and the last of a batch's worth), so that a few bad results side by
   * side do not pass for an outage. They are not acknowledged here: they go again with their batch and
   * the output de-duplicates them by id.
   */
  private async othersGetThrough(suspect: SpoolBatch): Promise<boolean> {
    const window = await this.spool.peek(this.opts.batchSize, this.opts.maxBatchBytes, { look: true });
    const others = window.items.slice(suspect.items.length);
    const picks = [...new Set([0, others.length >> 1, others.length - 1])].filter((i) => i < others.length);
    for (const i of picks) {
      if (this.stopping.signal.aborted) return false;
      if ((await this.send([others[i]!])).ok) return true;
    }
    return false;
  }

  private async quarantineBatch(batch: SpoolBatch, outcome: Extract<SendOutcome, { ok: false }>): Promise<void> {
    const quarantine = this.quarantine!;
    const wasEmpty = quarantine.size === 0;
    await quarantine.add(batch.items);
    await this.spool.ack(batch.token, { quarantined: batch.items.length });
    this.search.reset();
    this.counts.consecutiveFailures = 0;
    this.lastProgressAt = this.opts.now();
    if (wasEmpty) {
      this.quarantineWait = this.opts.quarantineRetryMs;
      this.quarantineDueAt = this.opts.now() + this.quarantineWait;
    }
    for (const item of batch.items) {
      this.log.error(
        {
          id: (item as { id?: unknown }).id,
          reason: outcome.reason,
          quarantined: quarantine.size,
          retryInMs: this.quarantineDueAt - this.opts.now(),
        },
        'the output fails on this result while it stores others: quarantined beside the spool and tried again later; the rest flows on',
      );
    }
  }

  private async retryQuarantine(): Promise<void> {
    const through = await retryQuarantined(this.quarantine!, (items) => this.send(items), {
      log: this.log,
      signal: this.stopping.signal,
    });
    this.quarantineWait =
      through > 0 ? this.opts.quarantineRetryMs : Math.min(this.opts.quarantineRetryMaxMs, this.quarantineWait * 2);
    this.quarantineDueAt = this.opts.now() + this.quarantineWait;
  }

  /** The pause before the next attempt: "full jitter" exponential backoff, at least what Retry-After asks. */
  private recordFailure(outcome: Extract<SendOutcome, { ok: false }>, failures: number): number {
    this.counts.failedAttempts++;
    this.counts.consecutiveFailures++;
    this.lastError = outcome.reason;
    if (outcome.permanent === 'receiver') {
      this.log.error(
        { output: this.sink.describe(), reason: outcome.reason },
        'the receiver refuses this worker; results stay spooled until it is fixed',
      );
      return this.opts.maxDelayMs;
    }
    const backoff = Math.round(
      this.opts.random() * Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** failures),
    );
    const wait = Math.max(backoff, Math.min(outcome.retryAfterMs ?? 0, this.opts.maxRetryAfterMs));
    this.log[failures === 0 ? 'warn' : 'debug'](
      { reason: outcome.reason, attempt: failures + 1, retryInMs: wait, backlog: this.spool.depth },
      'delivery failed; results stay spooled',
    );
    return wait;
  }

  /** Until results are appended, stop() is called, or the quarantine is due for another try. */
  private idle(): Promise<void> {
    if (this.appended || this.stopping.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.quarantine?.size
        ? setTimeout(() => this.wake?.(), Math.max(0, this.quarantineDueAt - this.opts.now()))
        : undefined;
      this.wake = () => {
        clearTimeout(timer);
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
