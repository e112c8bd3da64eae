import { open, readdir, readFile, rename, rm, statfs, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** Where delivery stands: `offset` bytes (`done` lines) of segment `seq` are delivered. */
export interface SpoolPosition {
  seq: number;
  offset: number;
  done: number;
}

const SEGMENT = /^spool-(\d+)\.ndjson$/;
const CURSOR = 'cursor.json';
const READ_CHUNK = 64 * 1024;

// Zero-padded so `ls` lists segments in delivery order.
export const segmentName = (seq: number): string => `spool-${String(seq).padStart(12, '0')}.ndjson`;

export async function listSegments(dir: string): Promise<number[]> {
  const seqs: number[] = [];
  for (const name of await readdir(dir)) {
    const m = SEGMENT.exec(name);
    if (m) seqs.push(Number(m[1]));
  }
  return seqs.sort((a, b) => a - b);
}

/** The saved position, or undefined when there is none or it is unreadable (then delivery restarts at the oldest segment). */
export async function readCursor(dir: string): Promise<Omit<SpoolPosition, 'done'> | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, CURSOR), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { seq, offset } = JSON.parse(text) as { seq: unknown; offset: unknown };
    if (Number.isSafeInteger(seq) && Number.isSafeInteger(offset) && (offset as number) >= 0)
      return { seq: seq as number, offset: offset as number };
  } catch {
    // fall through: a cursor we cannot read means "redeliver from the oldest segment"; ids make that harmless
  }
  return undefined;
}

// Fixed width, so the cursor is rewritten in place: on a full disk it needs no new block.
const CURSOR_WIDTH = 64;

/**
 * Saves the cursor by rewriting `cursor.json` in place (one 64-byte write at offset 0, then fdatasync), so
 * that saving it never needs free space: a full disk used to refuse the cursor right after a delivery. A
 * write this small and aligned lands whole on every disk we know (sector atomicity); if it did not, an
 * unreadable cursor means "redeliver from the oldest segment", which duplicates and never loses. The first
 * save creates the file by a temporary file and a rename.
 */
export async function writeCursor(dir: string, pos: SpoolPosition): Promise<void> {
  const line = `${JSON.stringify({ seq: pos.seq, offset: pos.offset }).padEnd(CURSOR_WIDTH - 1)}\n`;
  let fh: FileHandle;
  try {
    fh = await open(join(dir, CURSOR), 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return createCursor(dir, line);
  }
  try {
    await fh.write(line, 0, 'utf8');
    await fh.truncate(CURSOR_WIDTH);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

async function createCursor(dir: string, line: string): Promise<void> {
  const tmp = join(dir, `${CURSOR}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(line);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, CURSOR));
}

/** Bytes the spool's filesystem still has for an unprivileged writer. */
export async function freeSpace(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

export async function removeStaleCursorTmp(dir: string): Promise<void> {
  await rm(join(dir, `${CURSOR}.tmp`), { force: true });
}

/** Makes a new directory entry (segment) survive a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Calls `onLine` with each complete line of `fh` between `start` and `end`, and its length with the
 * newline; stops when `onLine` returns false. A last line without its newline is not reported.
 */
export async function readLines(
  fh: FileHandle,
  start: number,
  end: number,
  onLine: (line: Buffer, length: number) => boolean,
): Promise<void> {
  let pos = start;
  let carry = Buffer.alloc(0);
  while (pos < end) {
    const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, end - pos));
    const { bytesRead } = await fh.read(chunk, 0, chunk.length, pos);
    if (bytesRead === 0) return;
    pos += bytesRead;
    let buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
    let nl: number;
    while ((nl = buf.indexOf(10)) !== -1) {
      if (!onLine(buf.subarray(0, nl), nl + 1)) return;
      buf = buf.subarray(nl + 1);
    }
    carry = Buffer.from(buf);
  }
}

/**
 * Counts the complete lines of a segment and cuts a torn last line (a crash in the middle of a write) so
 * that later appends start on a line of their own. Returns the segment's size and lines after repair.
 */
export async function scanSegment(path: string): Promise<{ size: number; items: number; tornBytes: number }> {
  const fh = await open(path, 'r+');
  try {
    const { size } = await fh.stat();
    let items = 0;
    let complete = 0;
    await readLines(fh, 0, size, (_line, length) => {
      items++;
      complete += length;
      return true;
    });
    if (complete < size) {
      await fh.truncate(complete);
      await fh.datasync();
    }
    return { size: complete, items, tornBytes: size - complete };
  } finally {
    await fh.close();
  }
}
