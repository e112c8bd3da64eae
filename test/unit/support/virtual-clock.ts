/**
 * Virtual time for the probe algorithms' injectable clocks: `sleep` parks a waiter, and once every microtask
 * has run (a scripted `send` answers at once) time jumps to the earliest waiter and wakes it. Seconds of
 * rate-limit pacing cost a test nothing, and the order of events is the order they would have in real time.
 */
export class VirtualClock {
  now = 0;
  private readonly timers: Array<{ at: number; wake: () => void }> = [];
  private pumping = false;

  readonly sleep = (ms: number): Promise<void> =>
    new Promise((wake) => {
      this.timers.push({ at: this.now + Math.max(0, ms), wake });
      this.schedule();
    });

  readonly read = (): number => this.now;

  private schedule(): void {
    if (this.pumping) return;
    this.pumping = true;
    setImmediate(() => {
      this.pumping = false;
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers.shift();
      if (!next) return;
      this.now = Math.max(this.now, next.at);
      next.wake();
      if (this.timers.length > 0) this.schedule();
    });
  }
}
