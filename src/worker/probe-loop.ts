import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/create-logger.js';
import type { Result } from '../results/result-schema.js';
import type { IsolationGuard, MeasuredTarget } from './isolation-guard.js';
import { TRICKLE_BATCH, trickleWaitMs } from './silence-watch.js';
import type { TargetSource } from './target-source.js';

export interface ProbeLoopOptions {
  source: TargetSource;
  measure: (target: string, lease: string | null) => Promise<Result[]>;
  /** Durable hand-off of results (the spool); resolves when they are safe. */
  store: (results: Result[]) => Promise<void>;
  log: Logger;
  batchSize: number;
  concurrency: number;
  cooldownMs: number;
  intervalMs: number;
  onFetch?: (ok: boolean) => void;
  /** Holds unanswered results back while it cannot tell a dead target from a dead uplink (isolation-guard.ts). */
  guard?: IsolationGuard;
  /**
   * While `silent` (no answer ever heard, silence-watch.ts), the loop trickles: batches of a few targets,
   * the wait between them doubling from `intervalMs` up to 5 min, so a worker without a network does not
   * lease its whole target list and report every target unanswered.
   */
  silence?: { readonly silent: boolean };
}

/** A leased batch: its targets not started yet, and how many are still being measured. */
interface Batch {
  lease: string | null;
  queued: string[];
  left: number;
  /** Fetched while the worker had never heard an answer (a few targets, spaced out). */
  trickle: boolean;
}

/**
 * The worker's main loop: fetch a batch of targets, measure the ones not probed within the cooldown, with
 * bounded concurrency, and hand each result to the spool. An upstream that is away is retried with
 * backoff; the loop itself never gives up.
 *
 * Batches overlap: the next one is fetched as soon as every target of the last has started, not when the
 * slowest has finished. One trace through silent hops can take many seconds, and waiting for it held every
 * other slot idle (in a lab run, most of the time). At most one batch waits for slots, its lease running.
 */
export class ProbeLoop {
  private stopping = false;
  private running?: Promise<void>;
  private readonly wake = new AbortController();
  private readonly lastProbed = new Map<string, number>();
  /** Stopped while cut off: the rest of the batch is left to its lease rather than measured as dead. */
  private abandonBatch = false;
  /** Batches with targets not started yet, oldest first. */
  private readonly batches: Batch[] = [];
  private readonly slots = new Set<Promise<void>>();
  /** Wakes the fetcher once every leased target has started. */
  private drained?: () => void;

  constructor(private readonly opts: ProbeLoopOptions) {}

  start(): void {
    this.running ??= this.run();
  }

  /** Stops fetching and waits for the measurements in flight (and the targets leased) to finish and be stored. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake.abort();
    this.drained?.();
    const guard = this.opts.guard;
    if (guard) {
      this.abandonBatch = guard.state !== 'ok';
      await guard.stop();
    }
    await this.running;
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.wake.signal }).catch(() => {});
  }

  private async run(): Promise<void> {
    let failures = 0;
    let trickled = 0;
    while (!this.stopping) {
      await this.untilDrained();
      // Not while the guard asks its canaries or the worker is cut off: a lease taken then would only expire.
      await this.opts.guard?.ready();
      if (this.stopping) break;
      const silent = this.opts.silence?.silent === true;
      if (silent) {
        await this.pause(trickleWaitMs(this.opts.intervalMs, trickled++));
        if (this.stopping) break;
      } else trickled = 0;
      let batch;
      try {
        batch = await this.opts.source.next(
          silent ? Math.min(this.opts.batchSize, TRICKLE_BATCH) : this.opts.batchSize,
        );
        failures = 0;
        this.opts.onFetch?.(true);
      } catch (err) {
        failures++;
        this.opts.onFetch?.(false);
        const delay = Math.round(Math.random() * Math.min(60_000, 1_000 * 2 ** Math.min(failures, 6)));
        this.opts.log.warn(
          { err: (err as Error).message, retryInMs: delay },
          `cannot get targets from ${this.opts.source.describe()}`,
        );
        await this.pause(delay);
        continue;
      }
      const due = batch.targets.filter((t) => this.due(t));
      if (due.length === 0) {
        await this.pause(
          batch.targets.length === 0 ? (batch.retryAfterMs ?? this.opts.intervalMs) : this.opts.intervalMs,
        );
        continue;
      }
      // Marked now, so that a target in the next batch too is not measured twice at once.
      for (const t of due) this.lastProbed.set(t, Date.now());
      this.batches.push({ lease: batch.lease, queued: due, left: due.length, trickle: silent });
      this.fill();
      this.forgetExpired();
    }
    while (this.slots.size > 0) await Promise.all([...this.slots]);
  }

  /** Resolves once no leased target waits for a slot (or the loop stops). */
  private async untilDrained(): Promise<void> {
    if (this.batches.length === 0 || this.stopping) return;
    await new Promise<void>((resolve) => (this.drained = resolve));
    this.drained = undefined;
  }

  /** Starts slots up to the concurrency for what waits: queued targets and the guard's targets to measure again. */
  private fill(): void {
    const waiting = this.batches.reduce((n, b) => n + b.queued.length, 0) + (this.opts.guard?.retryCount ?? 0);
    const want = Math.min(this.opts.concurrency, this.slots.size + waiting) - this.slots.size;
    for (let i = 0; i < want; i++) {
      const slot: Promise<void> = this.slot().finally(() => this.slots.delete(slot));
      this.slots.add(slot);
    }
  }

  /** The next target: one to measure again first, else the oldest batch's next; undefined when none waits. */
  private take(): { job: MeasuredTarget; batch?: Batch } | undefined {
    const retry = this.opts.guard?.nextRetry();
    if (retry) return { job: retry };
    // Silence found (silence-watch.ts): a full batch fetched before is not measured on; its targets are left
    // to their lease, as the trickle is there not to report a whole target list unanswered.
    while (this.batches[0] && !this.batches[0].trickle && this.opts.silence?.silent) {
      const dropped = this.batches.shift()!;
      dropped.left -= dropped.queued.length;
      if (dropped.left === 0) void this.opts.guard?.settle();
    }
    const batch = this.batches[0];
    if (!batch) {
      this.drained?.();
      return undefined;
    }
    const target = batch.queued.shift()!;
    if (batch.queued.length === 0) this.batches.shift();
    if (this.batches.length === 0) this.drained?.();
    return { job: { target, lease: batch.lease }, batch };
  }

  private async slot(): Promise<void> {
    const guard = this.opts.guard;
    for (;;) {
      await guard?.ready();
      if (this.abandonBatch) {
        this.batches.length = 0;
        this.drained?.();
        return;
      }
      const next = this.take();
      if (!next) return;
      const { job, batch } = next;
      this.lastProbed.set(job.target, Date.now());
      try {
        const results = await this.opts.measure(job.target, job.lease);
        await (guard ? guard.record(job, results) : this.opts.store(results));
      } catch (err) {
        this.opts.log.error({ err, target: job.target }, 'measurement failed');
      }
      // A batch's last target: a streak at its end is judged now, not held until the next answer (its lease
      // would expire); what the guard gives back to measure again gets slots of its own.
      if (batch && --batch.left === 0 && guard && !this.abandonBatch) {
        await guard.settle();
        this.fill();
      }
    }
  }

  private due(target: string): boolean {
    const last = this.lastProbed.get(target);
    return last === undefined || Date.now() - last >= this.opts.cooldownMs;
  }

  /** Keeps the cooldown map from growing without bound on a long-running worker. */
  private forgetExpired(): void {
    if (this.lastProbed.size < 100_000) return;
    const cutoff = Date.now() - this.opts.cooldownMs;
    for (const [t, at] of this.lastProbed) if (at < cutoff) this.lastProbed.delete(t);
  }
}
