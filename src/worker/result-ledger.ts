/** Where every result the worker made has gone; `produced = delivered + rejected + quarantined + dropped + backlog`. */
export interface ResultAccounts {
  /** Spooled since the worker started, plus what it found spooled or quarantined at start. */
  produced: number;
  delivered: number;
  /** Refused for good by the output (it named them as bad), or too large to send. */
  rejected: number;
  /** Held aside because the output fails on them while it stores others; retried on a slow schedule. */
  quarantined: number;
  /** Lost: the spool or its disk was full, a line on disk was corrupt, or a write failed. */
  dropped: number;
  /** Spooled, waiting for delivery. */
  backlog: number;
}

const HOUR = 3_600_000;

/**
 * The counts behind ResultAccounts, except the backlog (the spool's depth). The spool and the quarantine
 * change a count in the same synchronous step as the state it describes, so the sum holds at every moment,
 * even while a cursor or a file is still being written.
 */
export class ResultLedger {
  produced = 0;
  delivered = 0;
  rejected = 0;
  quarantined = 0;
  dropped = 0;
  private drops: Array<{ at: number; n: number }> = [];

  constructor(private readonly now: () => number = Date.now) {}

  drop(n: number): void {
    if (n <= 0) return;
    this.dropped += n;
    this.drops.push({ at: this.now(), n });
  }

  /** Results dropped in the last hour. */
  droppedLastHour(): number {
    const since = this.now() - HOUR;
    this.drops = this.drops.filter((d) => d.at > since);
    return this.drops.reduce((sum, d) => sum + d.n, 0);
  }

  accounts(backlog: number): ResultAccounts {
    const { produced, delivered, rejected, quarantined, dropped } = this;
    return { produced, delivered, rejected, quarantined, dropped, backlog };
  }
}
