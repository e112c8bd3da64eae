import type { SendOutcome } from './result-sinks.js';

/** What to do after a failed batch. */
export type PoisonStep =
  /** Back off and send the same batch again: the output may be down. */
  | 'retry'
  /** Send the first half of the batch now: the batch may hold a result the output fails on. */
  | 'split'
  /** One result alone fails: send other results to see whether the output stores them; if it does, quarantine this one. */
  | 'probe';

/**
 * Tells a batch the output cannot store ("poison": one result makes it fail with a 5xx) from an output that
 * is down. A network error, a timeout, a 408/429 or a 503 with Retry-After is the output's state, never
 * the batch's. After `patience` such 5xx in a row on the batch at the front, the batch is halved; a half
 * that fails is halved again (a half that is stored shows the output works, and the next piece is tried);
 * a single result that still fails is checked against other results before it is quarantined.
 */
export class PoisonSearch {
  private failures = 0;
  /** Items at the front still suspected, and the batch size used on them; 0 when not searching. */
  private suspect = 0;
  private size = 0;

  constructor(private readonly patience = 3) {}

  /** The most items the next batch may take. */
  limit(normal: number): number {
    return this.suspect ? Math.min(normal, this.size) : normal;
  }

  get searching(): boolean {
    return this.suspect > 0;
  }

  /** `n` items at the front were stored. */
  stored(n: number): void {
    this.failures = 0;
    if (!this.suspect) return;
    this.suspect -= n;
    if (this.suspect <= 0) this.reset();
  }

  /** A batch of `n` items failed with `outcome`. */
  failed(n: number, outcome: Extract<SendOutcome, { ok: false }>): PoisonStep {
    if (!mayBeTheBatch(outcome)) {
      this.reset();
      return 'retry';
    }
    this.failures++;
    if (!this.suspect && this.failures < this.patience) return 'retry';
    this.suspect = n;
    if (n === 1) return 'probe';
    this.size = Math.ceil(n / 2);
    return 'split';
  }

  /** The probe settled it (the result was quarantined, or the output is down after all): start over. */
  reset(): void {
    this.failures = 0;
    this.suspect = 0;
    this.size = 0;
  }
}

/** A 5xx may come from what the batch holds; anything else is about the output or the way to it. */
export function mayBeTheBatch(outcome: Extract<SendOutcome, { ok: false }>): boolean {
  const status = outcome.status;
  if (status === undefined || status < 500 || outcome.permanent) return false;
  return !(status === 503 && outcome.retryAfterMs !== undefined);
}
