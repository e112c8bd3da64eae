import type { Pool } from '../db/create-pool.js';
import { isTransientDatabaseError } from '../db/transient-errors.js';
import type { Logger } from '../log/create-logger.js';
import type { IngestFollowUps } from '../results/ingest-follow-ups.js';
import type { Result } from '../results/result-schema.js';
import { storeResults } from '../results/store-results.js';
import { validateResult, type ItemError } from '../results/validate-results.js';

/** Results stored per transaction: measured multi-row inserts were fastest around 500 rows. */
export const INGEST_BATCH = 500;
/** The answer lists at most this many item errors; the counts are always complete. */
const MAX_LISTED_ERRORS = 1_000;
/**
 * Bad input a body may cost before the rest is left unread: a real batch has a handful of bad items, a
 * hostile one millions (0.5 MB of gzip is 512 MiB of bad lines, ~5 CPU-minutes to check them all).
 */
export const MAX_REJECTED_ITEMS = 10_000;
export const MAX_REJECTED_BYTES = 64 * 1024 * 1024;

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

interface Pending {
  result: Result;
  index: number;
}

/**
 * Validates and stores items as they come (from a parsed JSON body or a streamed NDJSON body), in
 * batches; invalid items are counted and named, valid ones stored. Only what was committed is counted.
 */
export class Ingest {
  readonly summary: IngestSummary = {
    accepted: 0,
    duplicate: 0,
    rejected: 0,
    errors: [],
    hops: [],
    newHops: 0,
    links: 0,
    routeChanges: 0,
  };
  private batch: Pending[] = [];
  private rejectedBytes = 0;

  constructor(
    private readonly pool: Pool,
    private readonly followUps: IngestFollowUps,
    private readonly log?: Logger,
  ) {}

  /** `bytes`: the item's size in the body, counted against MAX_REJECTED_BYTES when it is refused. */
  async add(item: unknown, index: number, bytes = 0): Promise<void> {
    const checked = validateResult(item, index);
    if (!checked.ok) {
      this.reject(checked.errors, bytes);
      return;
    }
    this.batch.push({ result: checked.result, index });
    if (this.batch.length >= INGEST_BATCH) await this.flush();
  }

  reject(errors: ItemError[], bytes = 0): void {
    this.summary.rejected++;
    this.waste(bytes);
    const room = MAX_LISTED_ERRORS - this.summary.errors.length;
    if (room > 0) this.summary.errors.push(...errors.slice(0, room));
  }

  /** Input that stores nothing (a blank line, the rest of an over-long one) spends the same budget. */
  waste(bytes: number): void {
    this.rejectedBytes += bytes;
  }

  /** Set once the body has cost as much bad input as it may: the caller stops reading it. */
  get exhausted(): boolean {
    return this.summary.rejected >= MAX_REJECTED_ITEMS || this.rejectedBytes >= MAX_REJECTED_BYTES;
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    await this.store(batch);
  }

  /**
   * The schema should let through nothing PostgreSQL refuses; should it miss something, the batch is split
   * in halves until the refused item stands alone, so it becomes that item's error and the rest is stored.
   * Each half is a transaction of its own; ids keep a re-stored half idempotent.
   */
  private async store(batch: Pending[]): Promise<void> {
    try {
      const out = await storeResults(
        this.pool,
        batch.map((p) => p.result),
        this.followUps,
      );
      this.summary.accepted += out.accepted;
      this.summary.duplicate += out.duplicate;
      this.summary.newHops += out.newHops;
      this.summary.links += out.links;
      this.summary.routeChanges += out.routeChanges;
      this.summary.hops.push(...out.hops);
    } catch (err) {
      const sqlstate = refusedData(err);
      if (!sqlstate) throw err;
      if (batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await this.store(batch.slice(0, half));
        await this.store(batch.slice(half));
        return;
      }
      const { index, result } = batch[0]!;
      this.log?.warn(
        { err, index, id: result.id, worker: result.worker },
        'the database refused a result that passed validation',
      );
      this.reject([
        {
          index,
          field: '(item)',
          message: `could not be stored: the database refused one of its values (SQLSTATE ${sqlstate})`,
        },
      ]);
    }
  }
}

/** The SQLSTATE of a data exception (class 22) or integrity violation (23): the data, not the database, is at fault. */
function refusedData(err: unknown): string | undefined {
  if (isTransientDatabaseError(err)) return undefined;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code) ? code : undefined;
}
