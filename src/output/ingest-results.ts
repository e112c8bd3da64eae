import type { Pool } from '../db/create-pool.js';
import type { Result } from '../results/result-schema.js';
import { storeResults } from '../results/store-results.js';
import { validateResult, type ItemError } from '../results/validate-results.js';

/** Results stored per transaction: measured multi-row inserts were fastest around 500 rows. */
export const INGEST_BATCH = 500;
/** The answer lists at most this many item errors; the counts are always complete. */
const MAX_LISTED_ERRORS = 1_000;

export interface IngestSummary {
  accepted: number;
  duplicate: number;
  rejected: number;
  errors: ItemError[];
  hops: string[];
  newHops: number;
  links: number;
  routeChanges: number;
}

/**
 * Validates and stores items as they come (from a parsed JSON body or a streamed NDJSON body), in
 * batches; invalid items are counted and named, valid ones stored. Only what was committed is counted.
 */
export class Ingest {
  readonly summary: IngestSummary = { accepted: 0, duplicate: 0, rejected: 0, errors: [], hops: [], newHops: 0, links: 0, routeChanges: 0 };
  private batch: Result[] = [];

  constructor(private readonly pool: Pool) {}

  async add(item: unknown, index: number): Promise<void> {
    const checked = validateResult(item, index);
    if (!checked.ok) {
      this.reject(checked.errors);
      return;
    }
    this.batch.push(checked.result);
    if (this.batch.length >= INGEST_BATCH) await this.flush();
  }

  reject(errors: ItemError[]): void {
    this.summary.rejected++;
    const room = MAX_LISTED_ERRORS - this.summary.errors.length;
    if (room > 0) this.summary.errors.push(...errors.slice(0, room));
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    const out = await storeResults(this.pool, batch);
    this.summary.accepted += out.accepted;
    this.summary.duplicate += out.duplicate;
    this.summary.newHops += out.newHops;
    this.summary.links += out.links;
    this.summary.routeChanges += out.routeChanges;
    this.summary.hops.push(...out.hops);
  }
}
