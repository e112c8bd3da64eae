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

/**
 * The worker's main loop: fetch a batch of targets, measure the ones not probed within the cooldown, with
 * bounded concurrency, and hand each result to the spool. An upstream that is away is retried with
 * backoff; the loop itself never gives up.
 */
export class ProbeLoop {
  private stopping = false;
  private running?: Promise<void>;
  private readonly wake = new AbortController();
  private readonly lastProbed = new Map<string, number>();
  /** Stopped while cut off: the rest of the batch is left to its lease rather than measured as dead. */
  private abandonBatch = false;

  constructor(private readonly opts: ProbeLoopOptions) {}

  start(): void {
    this.running ??= this.run();
  }

  /** Stops fetching and waits for the measurements in flight to finish and be stored. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake.abort();
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
      await this.measureAll(due, batch.lease);
    }
  }

  private due(target: string): boolean {
    const last = this.lastProbed.get(target);
    return last === undefined || Date.now() - last >= this.opts.cooldownMs;
  }

  private async measureAll(targets: string[], lease: string | null): Promise<void> {
    const guard = this.opts.guard;
    let next = 0;
    const worker = async () => {
      for (;;) {
        await guard?.ready();
        if (this.abandonBatch) return;
        const job: MeasuredTarget | undefined =
          guard?.nextRetry() ?? (next < targets.length ? { target: targets[next++]!, lease } : undefined);
        if (!job) return;
        this.lastProbed.set(job.target, Date.now());
        try {
          const results = await this.opts.measure(job.target, job.lease);
          await (guard ? guard.record(job, results) : this.opts.store(results));
        } catch (err) {
          this.opts.log.error({ err, target: job.target }, 'measurement failed');
        }
      }
    };
    const pool = (n: number) => Promise.all(Array.from({ length: Math.min(this.opts.concurrency, n) }, worker));
    await pool(targets.length);
    // Workers that ran out of targets may have left before a streak at the batch's end was judged.
    while (guard && !this.abandonBatch) {
      await guard.settle();
      if (guard.retryCount === 0 || this.abandonBatch) break;
      await pool(guard.retryCount);
    }
    this.forgetExpired();
  }

  /** Keeps the cooldown map from growing without bound on a long-running worker. */
  private forgetExpired(): void {
    if (this.lastProbed.size < 100_000) return;
    const cutoff = Date.now() - this.opts.cooldownMs;
    for (const [t, at] of this.lastProbed) if (at < cutoff) this.lastProbed.delete(t);
  }
}
