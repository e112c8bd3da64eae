import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/create-logger.js';
import { fsyncDir, listSegments, readCursor, readLines, removeStaleCursorTmp, scanSegment, segmentName, writeCursor, type SpoolPosition } from './spool-files.js';

export interface SpoolOptions {
  /** Bound on the segment files on disk; past it the oldest segment is dropped (see docs/worker-delivery.md). */
  maxBytes: number;
  /** A segment this large is closed and a new one started (default maxBytes/8, at most 1 MiB): the unit of dropping. */
  segmentBytes?: number;
  log?: Logger;
}

/** Opaque to callers: where delivery stands once the batch it came with is acknowledged. */
export type SpoolToken = Readonly<SpoolPosition>;

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
  private droppedItems = 0;
  private corruptLines = 0;

  private constructor(
    readonly dir: string,
    private readonly maxBytes: number,
    private readonly segmentBytes: number,
    private readonly log: Logger | undefined,
    private segments: Segment[],
    private cursor: SpoolPosition,
    private tail: FileHandle,
  ) {}

  static async open(dir: string, opts: SpoolOptions): Promise<ResultSpool> {
    if (!(opts.maxBytes > 0)) throw new Error(`result spool maxBytes must be positive, got ${opts.maxBytes}`);
    const segmentBytes = Math.min(opts.maxBytes, opts.segmentBytes ?? Math.max(4096, Math.min(1024 * 1024, Math.floor(opts.maxBytes / 8))));
    await mkdir(dir, { recursive: true });
    await removeStaleCursorTmp(dir);
    const saved = await readCursor(dir);
    let seqs = await listSegments(dir);
    // Older segments are delivered: a crash between saving the cursor and deleting them leaves them behind.
    for (const seq of seqs.filter((s) => saved && s < saved.seq)) await rm(join(dir, segmentName(seq)), { force: true });
    seqs = seqs.filter((s) => !saved || s >= saved.seq);
    if (seqs.length === 0) {
      seqs = [saved?.seq ?? 1];
      await (await open(join(dir, segmentName(seqs[0]!)), 'a')).close();
      await fsyncDir(dir);
    }
    const segments: Segment[] = [];
    for (const seq of seqs) {
      const { size, items, tornBytes } = await scanSegment(join(dir, segmentName(seq)));
      if (tornBytes > 0) opts.log?.warn({ segment: segmentName(seq), tornBytes }, 'result spool: cut a torn last line (the worker stopped in the middle of a write)');
      segments.push({ seq, size, items });
    }
    const head = segments[0]!;
    const cursor = saved?.seq === head.seq ? await positionAt(join(dir, segmentName(head.seq)), head, saved.offset) : { seq: head.seq, offset: 0, done: 0 };
    const tail = await open(join(dir, segmentName(segments.at(-1)!.seq)), 'a');
    const spool = new ResultSpool(dir, opts.maxBytes, segmentBytes, opts.log, segments, cursor, tail);
    if (spool.depth > 0) opts.log?.info({ backlog: spool.depth, bytes: spool.bytes }, 'result spool: undelivered results from before the restart');
    return spool;
  }

  /** Undelivered items. */
  get depth(): number {
    return this.segments.reduce((n, s) => n + s.items, 0) - this.cursor.done;
  }

  /** Size of the segment files on disk (what `maxBytes` bounds). */
  get bytes(): number {
    return this.segments.reduce((n, s) => n + s.size, 0);
  }

  /** Undelivered items discarded because the spool was full, since it was opened. */
  get dropped(): number {
    return this.droppedItems;
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
      if (typeof r !== 'object' || r === null || Array.isArray(r)) return Promise.reject(new TypeError('result spool: a result must be a JSON object'));
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

  /** The oldest undelivered items, in order: at most `maxItems`, and at most `maxBytes` unless the first item alone is larger. */
  peek(maxItems: number, maxBytes = Infinity): Promise<SpoolBatch> {
    return this.serial(async () => {
      const items: object[] = [];
      let bytes = 0;
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
              this.corruptLines++;
              this.log?.warn({ segment: segmentName(seg.seq), offset: pos.offset - length }, 'result spool: skipped a line that is not JSON');
            }
            return true;
          });
        } finally {
          await fh.close();
        }
        if (full) break;
      }
      return { items, bytes, token: pos };
    });
  }

  /** Marks everything up to `token` delivered and deletes segments that are fully delivered. A stale token (its segment was dropped meanwhile) is ignored. */
  ack(token: SpoolToken): Promise<void> {
    return this.serial(async () => {
      if (!before(this.cursor, token)) return;
      const removed: Segment[] = [];
      while (this.segments.length > 1 && this.segments[0]!.seq < token.seq) removed.push(this.segments.shift()!);
      this.cursor = this.segments[0]!.seq === token.seq ? { ...token } : { seq: this.segments[0]!.seq, offset: 0, done: 0 };
      if (this.cursor.offset >= this.segments[0]!.size && this.segments.length > 1) {
        removed.push(this.segments.shift()!);
        this.cursor = { seq: this.segments[0]!.seq, offset: 0, done: 0 };
      }
      // Cursor first, then deletion: a crash in between leaves delivered segments that open() deletes.
      await writeCursor(this.dir, this.cursor);
      for (const seg of removed) await rm(join(this.dir, segmentName(seg.seq)), { force: true });
    });
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
    try {
      await this.makeRoom(data.length);
      const tail = this.segments.at(-1)!;
      if (tail.size > 0 && tail.size + data.length > this.segmentBytes) await this.rotate();
      const count = group.reduce((n, g) => n + g.count, 0);
      for (;;) {
        try {
          await this.write(data, count);
          break;
        } catch (err) {
          // A disk filled by something else counts as a full spool too: measuring must go on.
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC' || !(await this.dropOldest('disk full'))) throw err;
        }
      }
    } catch (err) {
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
  }

  /** The full-spool policy: drop whole segments, oldest first, until `incoming` fits. */
  private async makeRoom(incoming: number): Promise<void> {
    while (this.bytes + incoming > this.maxBytes && (await this.dropOldest('spool at maxBytes'))) {}
  }

  /** Deletes the oldest segment, delivered or not; false when there is nothing to delete. */
  private async dropOldest(cause: string): Promise<boolean> {
    if (this.bytes === 0) return false;
    if (this.segments.length === 1) await this.rotate();
    const head = this.segments.shift()!;
    const lost = head.items - this.cursor.done;
    this.cursor = { seq: this.segments[0]!.seq, offset: 0, done: 0 };
    // Space first (the disk may be full); a cursor naming a deleted segment makes open() start at the next one.
    await rm(join(this.dir, segmentName(head.seq)), { force: true });
    await writeCursor(this.dir, this.cursor).catch((err: Error) => this.log?.warn({ err: err.message }, 'result spool: cursor not saved after dropping a segment'));
    if (lost > 0) {
      this.droppedItems += lost;
      this.log?.warn({ dropped: lost, droppedTotal: this.droppedItems, cause, maxBytes: this.maxBytes }, 'result spool is full: dropped the oldest undelivered results');
    }
    return true;
  }

  private async rotate(): Promise<void> {
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
