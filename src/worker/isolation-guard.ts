import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/create-logger.js';
import type { Result } from '../results/result-schema.js';

export interface MeasuredTarget {
  target: string;
  lease: string | null;
}

interface Held extends MeasuredTarget {
  results: Result[];
}

export type NetworkState = 'ok' | 'checking' | 'isolated';

export interface IsolationGuardOptions {
  /** One paced probe (echo, or a TCP ping) to an address that answered before; true if it answered now. */
  probeCanary: (address: string) => Promise<boolean>;
  store: (results: Result[]) => Promise<void>;
  log: Logger;
  /** Unanswered targets in a row that make the guard ask its canaries. */
  threshold: number;
  canaries?: number;
  recheck?: { firstMs: number; maxMs: number };
  onIsolated?: (isolated: boolean) => void;
  onRemeasure?: () => void;
}

const answered = (results: Result[]) => results.some((r) => r.type === 'ping' && r.received > 0);

/**
 * Tells a worker that lost its own uplink from an internet where many targets never answer. Unanswered
 * targets are held back; an answer from any target breaks the streak and stores them as they are. A long
 * streak makes the guard ping a few addresses that answered recently (the canaries): one answer, and the
 * held results are real; none, and the worker is cut off. Then probing pauses (`ready()` waits), the
 * canaries are asked again with backoff, and once one answers the held targets come back from
 * `nextRetry()` to be measured again, so a cut never reaches the map as "no answer".
 */
export class IsolationGuard {
  private readonly ring: string[] = [];
  /** Unanswered since the last answer, not judged yet. */
  private held: Held[] = [];
  /** Measured while cut off: measured again once the network is back. Their old results are kept until then. */
  private retries: Held[] = [];
  private current: NetworkState = 'ok';
  private isolatedSince?: Date;
  private gate?: { promise: Promise<void>; open: () => void };
  private task?: Promise<void>;
  private stopped = false;
  private readonly wake = new AbortController();
  private readonly ringSize: number;
  private readonly recheck: { firstMs: number; maxMs: number };

  constructor(private readonly opts: IsolationGuardOptions) {
    this.ringSize = opts.canaries ?? 6;
    this.recheck = opts.recheck ?? { firstMs: 1_000, maxMs: 15_000 };
  }

  get state(): NetworkState {
    return this.current;
  }

  get canaries(): readonly string[] {
    return this.ring;
  }

  status(): { state: NetworkState; since: string | null; held_targets: number } {
    return {
      state: this.current,
      since: this.isolatedSince?.toISOString() ?? null,
      held_targets: this.held.length + this.retries.length,
    };
  }

  /** Resolves when the loop may measure: at once unless the canaries are being asked or the worker is cut off. */
  async ready(): Promise<void> {
    await this.gate?.promise;
  }

  /** A target to measure again (before any new one): its earlier results are dropped for the new ones. */
  nextRetry(): MeasuredTarget | undefined {
    if (this.current !== 'ok' || this.stopped) return undefined;
    const next = this.retries.shift();
    if (!next) return undefined;
    this.opts.onRemeasure?.();
    return { target: next.target, lease: next.lease };
  }

  get retryCount(): number {
    return this.retries.length;
  }

  async record(measured: MeasuredTarget, results: Result[]): Promise<void> {
    if (this.stopped) return this.opts.store(results);
    if (answered(results)) {
      this.remember(measured.target);
      // During a check this is evidence enough for the streak so far; the check judges what comes after.
      const streak = this.current === 'isolated' ? [] : this.held.splice(0);
      await this.opts.store([...streak.flatMap((h) => h.results), ...results]);
      return;
    }
    if (results.length === 0) return;
    if (this.current === 'isolated') {
      this.retries.push({ ...measured, results });
      return;
    }
    this.held.push({ ...measured, results });
    if (this.current === 'ok' && this.held.length >= this.opts.threshold) this.startCheck();
  }

  /**
   * At the end of a batch: judges a shorter streak now rather than hold it until the next answer (its
   * leases would expire), and waits out an isolation.
   */
  async settle(): Promise<void> {
    if (!this.stopped && this.current === 'ok' && this.held.length > 0) this.startCheck();
    await this.ready();
  }

  /**
   * Stops judging. Whatever is still held, or waits to be measured again, is stored as it is: those are
   * true observations (the worker got no answer), and dropping them would lose the targets' leases silently.
   * Returns whether probing was paused (asking canaries, or cut off).
   */
  async stop(): Promise<boolean> {
    const paused = this.current !== 'ok';
    this.stopped = true;
    this.wake.abort();
    this.openGate();
    await this.task;
    const rest = [...this.held.splice(0), ...this.retries.splice(0)];
    if (rest.length > 0) {
      this.opts.log.info(
        { targets: rest.length, isolated: this.current === 'isolated' },
        'stopping: storing unanswered results as measured',
      );
      await this.opts.store(rest.flatMap((h) => h.results));
    }
    return paused;
  }

  private remember(address: string): void {
    const at = this.ring.indexOf(address);
    if (at >= 0) this.ring.splice(at, 1);
    this.ring.unshift(address);
    this.ring.length = Math.min(this.ring.length, this.ringSize);
  }

  private startCheck(): void {
    this.current = 'checking';
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
    this.task = this.check().catch((err: Error) => {
      this.opts.log.error({ err }, 'isolation check failed');
      this.current = 'ok';
      this.openGate();
    });
  }

  private openGate(): void {
    this.gate?.open();
    this.gate = undefined;
  }

  /** Most recent canary first, stopping at the first answer: usually one packet per check. */
  private async askCanaries(): Promise<boolean | 'unknown'> {
    if (this.ring.length === 0) return 'unknown';
    for (const address of [...this.ring]) {
      if (this.stopped) return 'unknown';
      if (await this.opts.probeCanary(address)) {
        this.remember(address);
        return true;
      }
    }
    return false;
  }

  private async check(): Promise<void> {
    const verdict = await this.askCanaries();
    if (this.stopped) return;
    if (verdict !== false) {
      // 'unknown': no target has answered yet, so nothing says the network is down; never stall on that.
      if (verdict === 'unknown')
        this.opts.log.debug(
          { targets: this.held.length },
          'no canary known yet: storing unanswered results as measured',
        );
      this.current = 'ok';
      const streak = this.held.splice(0);
      this.openGate();
      await this.opts.store(streak.flatMap((h) => h.results));
      return;
    }

    this.current = 'isolated';
    this.isolatedSince = new Date();
    this.retries.push(...this.held.splice(0));
    this.opts.onIsolated?.(true);
    this.opts.log.warn(
      { heldTargets: this.retries.length, canaries: this.ring },
      'no target and no canary answers: this worker seems cut off; probing paused, results held',
    );
    let delay = this.recheck.firstMs;
    for (;;) {
      await sleep(delay, undefined, { signal: this.wake.signal }).catch(() => {});
      if (this.stopped) return;
      if ((await this.askCanaries()) === true) break;
      delay = Math.min(this.recheck.maxMs, delay * 2);
    }
    if (this.stopped) return;
    const isolatedMs = Date.now() - this.isolatedSince.getTime();
    this.opts.log.info(
      { isolatedMs, remeasured: this.retries.length },
      'network back: measuring again the targets probed while cut off',
    );
    this.current = 'ok';
    this.isolatedSince = undefined;
    this.opts.onIsolated?.(false);
    this.openGate();
  }
}
