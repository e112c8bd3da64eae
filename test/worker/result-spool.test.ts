import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { ResultSpool } from '../../src/worker/result-spool.js';
import { assertNoLeaks } from '../support/leaks.js';
import { quietLog } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const result = (n: number) => ({ id: `r-${String(n).padStart(4, '0')}`, target: '192.0.2.1', rtt: [1.5, 1.7, 1.6] });
const ids = (items: object[]) => items.map((i) => (i as { id: string }).id);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => result(from + i));
const segments = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.ndjson'))
    .sort();
const openFds = () => readdirSync('/proc/self/fd').length;

/** A logger that keeps its lines, to check what the spool warned about. */
function recordingLog() {
  const lines: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

/** Takes everything out of the spool in batches of `n`, acknowledging each. */
async function drain(spool: ResultSpool, n: number): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const batch = await spool.peek(n);
    if (batch.items.length === 0) return out;
    out.push(...ids(batch.items));
    await spool.ack(batch.token);
  }
}

describe('ResultSpool', { skip }, () => {
  let dir: string;
  let fdsBefore: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hopmap-spool-'));
    fdsBefore = openFds();
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    assert.equal(openFds(), fdsBefore, 'every file the spool opened is closed');
  });
  after(() => assertNoLeaks());

  it('gives results back in append order across segment files, and deletes a segment once it is delivered', async () => {
    const spool = await ResultSpool.open(dir, { maxBytes: 1_000_000, segmentBytes: 300, log: quietLog });
    for (const r of range(0, 20)) await spool.append([r]);
    await spool.append(range(20, 35));
    await Promise.all(range(35, 60).map((r) => spool.append([r]))); // concurrent appends keep call order
    assert.equal(spool.depth, 60);
    assert.ok(segments(dir).length > 5, `rotated into several segments: ${segments(dir).join(' ')}`);

    const first = await spool.peek(7);
    assert.deepEqual(ids(first.items), ids(range(0, 7)));
    assert.deepEqual(ids((await spool.peek(7)).items), ids(range(0, 7)), 'without an ack the same batch comes again');
    await spool.ack(first.token);
    assert.equal(spool.depth, 53);

    assert.deepEqual(await drain(spool, 7), ids(range(7, 60)));
    assert.equal(spool.depth, 0);
    assert.equal(segments(dir).length, 1, 'only the segment being written remains');
    await spool.append([result(60)]);
    assert.deepEqual(await drain(spool, 7), ['r-0060']);
    await spool.close();
    await assert.rejects(spool.append([result(61)]), /closed/);
  });

  it('honours the byte limit of a batch, but always returns at least one item', async () => {
    const spool = await ResultSpool.open(dir, { maxBytes: 1_000_000, log: quietLog });
    await spool.append(range(0, 10));
    const line = Buffer.byteLength(`${JSON.stringify(result(0))}\n`);
    const batch = await spool.peek(100, line * 3 + 1);
    assert.equal(batch.items.length, 3);
    assert.equal(batch.bytes, line * 3);
    assert.equal((await spool.peek(100, 1)).items.length, 1);
    await spool.close();
  });

  it('reopens where it stopped: acknowledged results are not given again, unacknowledged ones are', async () => {
    let spool = await ResultSpool.open(dir, { maxBytes: 1_000_000, segmentBytes: 400, log: quietLog });
    await spool.append(range(0, 30));
    await spool.append(range(30, 40));
    const delivered = await spool.peek(12);
    await spool.ack(delivered.token);
    await spool.peek(5); // in flight when the worker stops: must come again
    await spool.close();

    spool = await ResultSpool.open(dir, { maxBytes: 1_000_000, segmentBytes: 400, log: quietLog });
    assert.equal(spool.depth, 28);
    await spool.append(range(40, 45));
    const rest = await drain(spool, 9);
    assert.deepEqual(rest, ids(range(12, 45)));
    assert.deepEqual(
      [...ids(delivered.items), ...rest],
      ids(range(0, 45)),
      'each result exactly once over the restart',
    );
    await spool.close();

    spool = await ResultSpool.open(dir, { maxBytes: 1_000_000, segmentBytes: 400, log: quietLog });
    assert.equal(spool.depth, 0);
    assert.deepEqual(await drain(spool, 9), []);
    await spool.close();
  });

  it('cleans up after a crash between saving the cursor and deleting a delivered segment', async () => {
    let spool = await ResultSpool.open(dir, { maxBytes: 1_000_000, segmentBytes: 200, log: quietLog });
    await spool.append(range(0, 10));
    await spool.append(range(10, 20));
    const before = segments(dir);
    const batch = await spool.peek(10);
    await spool.ack(batch.token);
    await spool.close();
    // Put back what ack deleted, as if the worker died before the unlink, plus a half-written cursor.
    const deleted = before.filter((f) => !segments(dir).includes(f));
    assert.ok(deleted.length > 0);
    for (const f of deleted) writeFileSync(join(dir, f), `${JSON.stringify(result(999))}\n`);
    writeFileSync(join(dir, 'cursor.json.tmp'), '{"seq":');

    spool = await ResultSpool.open(dir, { maxBytes: 1_000_000, segmentBytes: 200, log: quietLog });
    assert.deepEqual(await drain(spool, 4), ids(range(10, 20)));
    assert.ok(!readdirSync(dir).includes('cursor.json.tmp'));
    await spool.close();
  });

  it('skips a torn last line on reopen, and appends after it on a line of their own', async () => {
    let spool = await ResultSpool.open(dir, { maxBytes: 1_000_000, log: quietLog });
    await spool.append(range(0, 5));
    await spool.close();
    const [tail] = segments(dir);
    const torn = '{"id":"r-0005","target":"192.0.2';
    appendFileSync(join(dir, tail!), torn); // power cut mid-write

    const { log, lines } = recordingLog();
    spool = await ResultSpool.open(dir, { maxBytes: 1_000_000, log });
    assert.equal(spool.depth, 5);
    assert.ok(
      lines.some((l) => /torn/.test(l.msg) && l.tornBytes === torn.length),
      JSON.stringify(lines),
    );
    await spool.append([result(6)]);
    assert.deepEqual(await drain(spool, 100), ['r-0000', 'r-0001', 'r-0002', 'r-0003', 'r-0004', 'r-0006']);
    assert.equal(spool.corrupt, 0);
    await spool.close();
    for (const l of readFileSync(join(dir, tail!), 'utf8').trimEnd().split('\n')) JSON.parse(l);
  });

  it('starts over from the oldest result when the cursor is unreadable (at least once, never lost)', async () => {
    let spool = await ResultSpool.open(dir, { maxBytes: 1_000_000, log: quietLog });
    await spool.append(range(0, 6));
    await spool.ack((await spool.peek(3)).token);
    await spool.close();
    writeFileSync(join(dir, 'cursor.json'), 'garbage');
    spool = await ResultSpool.open(dir, { maxBytes: 1_000_000, log: quietLog });
    assert.deepEqual(await drain(spool, 100), ids(range(0, 6)));
    await spool.close();
  });

  it('when full, drops the oldest segment, counts what was lost and warns each time', async () => {
    const { log, lines } = recordingLog();
    const maxBytes = 3_000;
    const spool = await ResultSpool.open(dir, { maxBytes, segmentBytes: 600, log });
    const batch = await spool.peek(10); // nothing yet
    assert.equal(batch.items.length, 0);
    await spool.append(range(0, 5));
    const inFlight = await spool.peek(5); // out for delivery while the spool overflows
    for (const r of range(5, 200)) {
      await spool.append([r]);
      assert.ok(spool.bytes <= maxBytes, `spool holds ${spool.bytes} bytes, over its ${maxBytes}`);
    }
    assert.ok(spool.dropped > 0);
    const warnings = lines.filter((l) => /full/.test(l.msg));
    assert.ok(warnings.length > 1, 'a warning per dropped segment');
    assert.equal(
      warnings.reduce((n, l) => n + (l.dropped as number), 0),
      spool.dropped,
    );

    // Its segment is gone, but the batch reached the receiver: delivered, not dropped (it used to be both).
    await spool.ack(inFlight.token);
    assert.equal(spool.ledger.delivered, 5);
    const kept = await drain(spool, 50);
    assert.equal(5 + kept.length + spool.dropped, 200, 'every result is either delivered or counted as dropped');
    assert.deepEqual(kept, ids(range(200 - kept.length, 200)), 'the newest results are the ones kept');
    await spool.close();
  });

  it('keeps call order for 2000 concurrent one-result appends (written in groups)', async () => {
    const spool = await ResultSpool.open(dir, { maxBytes: 50_000_000, log: quietLog });
    await Promise.all(range(0, 2000).map((r) => spool.append([r])));
    assert.equal(spool.depth, 2000);
    assert.deepEqual(await drain(spool, 500), ids(range(0, 2000)));
    await spool.close();
  });
});
