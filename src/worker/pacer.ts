import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A hard packets-per-second cap: every probe takes the next send slot, 1/pps apart, so the rate holds over
 * any window longer than a slot, with no bursts that could flood a home link or a target.
 */
export class Pacer {
  private nextAt = 0;
  private readonly gapMs: number;

  constructor(
    readonly pps: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.gapMs = 1_000 / pps;
  }

  async take(): Promise<void> {
    const now = this.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + this.gapMs;
    if (at > now) await sleep(at - now);
  }
}
