import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/create-logger.js';
import { ResultLedger } from './result-ledger.js';
import {
  freeSpace,
  fsyncDir,
  listSegments,
  readCursor,
  readLines,
  removeStaleCursorTmp,
  scanSegment,
  segmentName,
  writeCursor,
  type SpoolPosition,
} from './spool-files.js';

export interface SpoolOptions {
  /** Bound on the segment files on disk; past it the oldest segment is dropped (see docs/worker-delivery.md). */
  maxBytes: number;
  /**
   * A segment this large is closed and a new one started: the unit of dropping. By default it follows the
   * room there is (1/16 of maxBytes or of the disk, whichever is less; 4 KiB to 1 MiB), measured again at
   * each new segment.
   */
  segmentBytes?: number;
  /** Shared with the quarantine, so one ledger accounts for every result. */
  ledger?: ResultLedger;
  log?: Logger;
}

/** Opaque to callers: where delivery stands once the batch it came with is acknowledged. */
export type SpoolToken = Readonly<SpoolPosition & { skipped: number }>;

/** What the receiver did with an acknowledged batch, beyond storing it. */
export interface AckCounts {
  rejected?: number;
  quarantined?: number;
}

export interface SpoolBatch {
  items: object[];
  /** Size of the items as NDJSON, newlines included. */
  bytes: number;
  token: SpoolToken;
}

interface Segment {
  seq: number;
  size: number;
  items: number;
}

interface PendingAppend {
  data: string;
  count: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const before = (a: SpoolPosition, b: SpoolPosition) => a.seq < b.seq || (a.seq === b.seq && a.offset < b.offset);

/**
 * A durable FIFO of JSON objects: NDJSON segment files plus a cursor saying how much of the oldest segment
 * is delivered. Invariants: `segments` is never empty, the last one is open for appending, and the cursor
 * points into the first one. Every operation runs one at a time (`serial`), so appends may arrive while a
 * batch is out for delivery.
 */
export class ResultSpool {
  private lock: Promise<unknown> = Promise.resolve();
  private pending: PendingAppend[] = [];
  private flushQueued = false;
  private closed = false;
  private readonly listeners = new Set<() => void>();
  private corruptLines = 0;
  /** Where the last batch handed out for delivery ends; undefined once acknowledged or given up. */
  private inFlight?: SpoolPosition;
  /** Results of the batch in flight whose segment was dropped meanwhile: delivered if it is acknowledged, else lost. */
  private orphaned = 0;
  private segmentBytes: number;
  /** What the spool may fill: maxBytes, or less when the disk has less room (measured at each new segment). */
  private room: number;

  private constructor(
    readonly dir: string,
    private readonly maxBytes: number,
    private readonly fixedSegmentBytes: number | undefined,
    readonly ledger: ResultLedger,
    private readonly log: Logger | undefined,
    private segments: Segment[],
    private cursor: SpoolPosition,
    private tail: FileHandle,
  ) {
    this.room = maxBytes;
    this.segmentBytes = fixedSegmentBytes ?? Math.max(4096, Math.min(1024 * 1024, Math.floor(maxBytes / 16)));
  }

  static async open(dir: string, opts: SpoolOptions): Promise<ResultSpool> {
    if (!(opts.maxBytes > 0)) throw new Error(`result spool maxBytes must be positive, got ${opts.maxBytes}`);
    await mkdir(dir, { recursive: true });
    await removeStaleCursorTmp(dir);
    const saved = await readCursor(dir);
    let seqs = await listSegments(dir);
    // Older segments are delivered: a crash between saving the cursor and deleting them leaves them behind.
    for (const seq of seqs.filter((s) => saved && s < saved.seq))
      await rm(join(dir, segmentName(seq)), { force: true });
    seqs = seqs.filter((s) => !saved || s >= saved.seq);
    if (seqs.length === 0) {
      seqs = [saved?.seq ?? 1];
      await (await open(join(dir, segmentName(seqs[0]!)), 'a')).close();
      await fsyncDir(dir);
    }
    const segments: Segment[] = [];
    for (const seq of seqs) {
      const { size, items, tornBytes } = await scanSegment(join(dir, segmentName(seq)));
      if (tornBytes > 0)
        opts.log?.warn(
          { segment: segmentName(seq), tornBytes },
          'result spool: cut a torn last line (the worker stopped in the middle of a write)',
        );
      segments.push({ seq, size, items });
    }
    const head = segments[0]!;
    const cursor =
      saved?.seq === head.seq
        ? await positionAt(join(dir, segmentName(head.seq)), head, saved.offset)
        : { seq: head.seq, offset: 0, done: 0 };
    const tail = await open(join(dir, segmentName(segments.at(-1)!.seq)), 'a');
    const fixed = opts.segmentBytes === undefined ? undefined : Math.min(opts.maxBytes, opts.segmentBytes);
    const spool = new ResultSpool(
      dir,
      opts.maxBytes,
      fixed,
      opts.ledger ?? new ResultLedger(),
      opts.log,
      segments,
      cursor,
      tail,
    );
    spool.ledger.produced += spool.depth;
    await spool.measureRoom();
    // Made now, while there is room: from then on the cursor is rewritten in place and needs none.
    await writeCursor(dir, cursor).catch((err: Error) =>
      opts.log?.warn({ err: err.message }, 'result spool: cursor not saved at start'),
    );
    if (spool.depth > 0)
      opts.log?.info(
        { backlog: spool.depth, bytes: spool.bytes },
        'result spool: undelivered results from before the restart',
      );
    return spool;
  }

  /** Undelivered items (a batch in flight included). */
  get depth(): number {
    return this.segments.reduce((n, s) => n + s.items, 0) - this.cursor.done + this.orphaned;
  }

  /** Size of the segment files on disk (what `maxBytes` bounds). */
  get bytes(): number {
    return this.segments.reduce((n, s) => n + s.size, 0);
  }

  /** Results lost since the worker started (a full spool or disk, corrupt lines, failed writes). */
  get dropped(): number {
    return this.ledger.dropped;
  }

  /** How full the spool is: its bytes over what it may fill (maxBytes, or less on a small disk), 0..1. */
  get fullness(): number {
    return this.room > 0 ? Math.min(1, this.bytes / this.room) : 1;
  }

  /** What the spool may fill now: maxBytes, or its bytes plus the disk's free space when that is less. */
  get capacity(): number {
    return this.room;
  }

  /** Lines that were not JSON (disk corruption) and were skipped. */
  get corrupt(): number {
    return this.corruptLines;
  }

  /**
   * Adds results at the tail; resolves once they are on disk (fdatasync). Appends made while a write is in
   * progress are written together by the next one (group commit), so 100 one-item appends a second cost a
   * handful of fsyncs, not 100.
   */
  append(results: readonly object[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('result spool is closed'));
    if (results.length === 0) return Promise.resolve();
    let data = '';
    for (const r of results) {
      if (typeof r !== 'object' || r === null || Array.isArray(r))
        return Promise.reject(new TypeError('result spool: a result must be a JSON object'));
      data += `${JSON.stringify(r)}\n`;
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ data, count: results.length, resolve, reject });
      if (!this.flushQueued) {
        this.flushQueued = true;
        void this.serial(() => this.flush());
      }
    });
  }

  /**
   * The oldest undelivered items, in order: at most `maxItems`, and at most `maxBytes` unless the first item
   * alone is larger. The batch counts as in flight until acknowledged or the next peek; `look` only looks
   * (a probe sent without acknowledging), leaving the batch in flight as it was.
   */
  peek(maxItems: number, maxBytes = Infinity, { look = false }: { look?: boolean } = {}): Promise<SpoolBatch> {
    return this.serial(async () => {
      if (!look) this.settleOrphans();
      const items: object[] = [];
      let bytes = 0;
      let skipped = 0;
      let pos: SpoolPosition = { ...this.cursor };
      for (const seg of this.segments) {
        if (items.length >= maxItems) break;
        if (seg.seq !== pos.seq) pos = { seq: seg.seq, offset: 0, done: 0 };
        if (pos.offset >= seg.size) continue;
        let full = false;
        const fh = await open(join(this.dir, segmentName(seg.seq)), 'r');
        try {
          await readLines(fh, pos.offset, seg.size, (line, length) => {
            if (items.length >= maxItems || (items.length > 0 && bytes + length > maxBytes)) return !(full = true);
            pos.offset += length;
            pos.done++;
            try {
              items.push(JSON.parse(line.toString('utf8')) as object);
              bytes += length;
            } catch {
              skipped++;
              if (!look) this.corruptLines++;
              this.log?.warn(
                { segment: segmentName(seg.seq), offset: pos.offset - length },
                'result spool: skipped a line that is not JSON',
              );
            }
            return true;
          });
        } finally {
          await fh.close();
        }
        if (full) break;
      }
      if (!look) this.inFlight = { ...pos };
      return { items, bytes, token: { ...pos, skipped } };
    });
  }

  /**
   * Marks everything up to `token` delivered (less what `counts` says was rejected or quarantined, and lines
   * that were not JSON) and deletes segments that are fully delivered. Results of the batch whose segment
   * was dropped while it was out count as delivered; the rest of a stale token is ignored.
   */
  ack(token: SpoolToken, counts: AckCounts = {}): Promise<void> {
    return this.serial(async () => {
      const depth = this.depth;
      const orphans = this.orphaned;
      this.orphaned = 0;
      this.inFlight = undefined;
      if (!before(this.cursor, token)) {
        this.account(orphans, token.skipped, counts);
        return;
      }
      const removed: Segment[] = [];
      while (this.segments.length > 1 && this.segments[0]!.seq < token.seq) removed.push(this.segments.shift()!);
      this.cursor =
        this.segments[0]!.seq === token.seq
          ? { seq: token.seq, offset: token.offset, done: token.done }
          : { seq: this.segments[0]!.seq, offset: 0, done: 0 };
      if (this.cursor.offset >= this.segments[0]!.size && this.segments.length > 1) {
        removed.push(this.segments.shift()!);
        this.cursor = { seq: this.segments[0]!.seq, offset: 0, done: 0 };
      }
      this.account(depth - this.depth, token.skipped, counts);
      // Cursor first, then deletion: a crash in between leaves delivered segments that open() deletes.
      await writeCursor(this.dir, this.cursor);
      for (const seg of removed) await rm(join(this.dir, segmentName(seg.seq)), { force: true });
    });
  }

  /** Counts `moved` results that left the spool with an acknowledgement. */
  private account(moved: number, skipped: number, counts: AckCounts): void {
    const lost = Math.min(skipped, moved);
    const rejected = Math.min(counts.rejected ?? 0, moved - lost);
    const quarantined = Math.min(counts.quarantined ?? 0, moved - lost - rejected);
    this.ledger.drop(lost);
    this.ledger.rejected += rejected;
    this.ledger.quarantined += quarantined;
    this.ledger.delivered += moved - lost - rejected - quarantined;
  }

  /** A batch that was not acknowledged before the next peek failed: the part of it whose segment is gone is lost. */
  private settleOrphans(): void {
    this.inFlight = undefined;
    if (this.orphaned === 0) return;
    const lost = this.orphaned;
    this.orphaned = 0;
    this.ledger.drop(lost);
    this.log?.error(
      { dropped: lost, droppedTotal: this.ledger.dropped },
      'result spool: results lost (their segment was dropped while they were out for delivery, and delivery failed)',
    );
  }

  /** Calls `listener` after each durable append (how delivery wakes up without polling). */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Writes what is pending, then closes the tail file. Later appends are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.serial(() => this.tail.close());
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.catch(() => {});
    return run;
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    const group = this.pending;
    this.pending = [];
    const data = Buffer.from(group.map((g) => g.data).join(''), 'utf8');
    const count = group.reduce((n, g) => n + g.count, 0);
    try {
      await this.makeRoom(data.length);
      const tail = this.segments.at(-1)!;
      if (tail.size > 0 && tail.size + data.length > this.segmentBytes) await this.rotate();
      for (;;) {
        try {
          await this.write(data, count);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          // A full disk: what it holds is all the spool may fill. Measuring must go on, so make room for the
          // newest results: first from files that hold nothing undelivered, then the oldest segment.
          this.room = this.bytes;
          if (!(await this.freeDelivered()) && !(await this.dropOldest('disk full'))) throw err;
        }
      }
    } catch (err) {
      this.ledger.produced += count;
      this.ledger.drop(count);
      this.log?.error(
        { err: (err as Error).message, dropped: count, droppedTotal: this.ledger.dropped },
        'result spool: results lost, they could not be written',
      );
      for (const g of group) g.reject(err);
      return;
    }
    for (const g of group) g.resolve();
    for (const listener of this.listeners) listener();
  }

  private async write(data: Buffer, count: number): Promise<void> {
    const tail = this.segments.at(-1)!;
    try {
      await this.tail.writeFile(data);
      await this.tail.datasync();
    } catch (err) {
      // Cut whatever part did land, so a later append never follows half a line.
      await this.tail.truncate(tail.size).catch(() => {});
      throw err;
    }
    tail.size += data.length;
    tail.items += count;
    this.ledger.produced += count;
  }

  /** The full-spool policy: drop whole segments, oldest first, until `incoming` fits. */
  private async makeRoom(incoming: number): Promise<void> {
    while (this.bytes + incoming > this.maxBytes) {
      if (!(await this.dropOldest('spool at maxBytes'))) return;
    }
  }

  /**
   * Deletes the oldest segment, delivered or not; false when there is nothing to delete. Results in it that
   * are out for delivery are not lost yet: they count as delivered if their batch is acknowledged.
   */
  private async dropOldest(cause: string): Promise<boolean> {
    if (this.bytes === 0) return false;
    if (this.segments.length === 1) await this.rotate();
    const head = this.segments.shift()!;
    const flying =
      this.inFlight && before(this.cursor, this.inFlight)
        ? (this.inFlight.seq === head.seq ? this.inFlight.done : head.items) - this.cursor.done
        : 0;
    const lost = head.items - this.cursor.done - flying;
    this.orphaned += flying;
    this.cursor = { seq: this.segments[0]!.seq, offset: 0, done: 0 };
    this.ledger.drop(lost);
    // Space first (the disk may be full); a cursor naming a deleted segment makes open() start at the next one.
    await rm(join(this.dir, segmentName(head.seq)), { force: true });
    await writeCursor(this.dir, this.cursor).catch((err: Error) =>
      this.log?.warn({ err: err.message }, 'result spool: cursor not saved after dropping a segment'),
    );
    if (lost > 0) {
      this.log?.error(
        { dropped: lost, droppedTotal: this.ledger.dropped, cause, maxBytes: this.maxBytes, capacity: this.room },
        'result spool is full: dropped the oldest undelivered results',
      );
    }
    return true;
  }

  /** Deletes files that hold nothing undelivered (left by a failed delete); true if any was there. */
  private async freeDelivered(): Promise<boolean> {
    const live = new Set(this.segments.map((s) => s.seq));
    const stale = (await listSegments(this.dir)).filter((seq) => !live.has(seq));
    for (const seq of stale) await rm(join(this.dir, segmentName(seq)), { force: true });
    await removeStaleCursorTmp(this.dir);
    return stale.length > 0;
  }

  /** Measures the room on the disk and sizes the next segments to it, so a full disk never costs more than 1/16 of what it holds. */
  private async measureRoom(): Promise<void> {
    const free = await freeSpace(this.dir).catch(() => Infinity);
    this.room = Math.min(this.maxBytes, this.bytes + free);
    this.segmentBytes = this.fixedSegmentBytes ?? Math.max(4096, Math.min(1024 * 1024, Math.floor(this.room / 16)));
  }

  private async rotate(): Promise<void> {
    await this.measureRoom();
    const seq = this.segments.at(-1)!.seq + 1;
    const next = await open(join(this.dir, segmentName(seq)), 'a');
    await fsyncDir(this.dir);
    await this.tail.close();
    this.tail = next;
    this.segments.push({ seq, size: 0, items: 0 });
  }
}

/** The saved offset as a position on a line boundary, with the count of lines before it. */
async function positionAt(path: string, head: Segment, offset: number): Promise<SpoolPosition> {
  const pos = { seq: head.seq, offset: 0, done: 0 };
  const fh = await open(path, 'r');
  try {
    await readLines(fh, 0, Math.min(offset, head.size), (_line, length) => {
      pos.offset += length;
      pos.done++;
      return true;
    });
  } finally {
    await fh.close();
  }
  return pos;
}
