import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ResultLedger, type ResultAccounts } from '../../src/worker/result-ledger.js';
import { ResultQuarantine } from '../../src/worker/result-quarantine.js';
import { ResultSpool } from '../../src/worker/result-spool.js';
import { quietLog } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const result = (n: number) => ({ id: `r-${String(n).padStart(5, '0')}`, target: '192.0.2.1', rtt: [1.5, 1.7, 1.6] });
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => result(from + i));

function assertBalanced(a: ResultAccounts, when: string): void {
  assert.equal(
    a.produced,
    a.delivered + a.rejected + a.quarantined + a.dropped + a.backlog,
    `${when}: ${JSON.stringify(a)}`,
  );
}

describe('what the spool accounts for', { skip }, () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hopmap-accounts-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('produced = delivered + rejected + quarantined + dropped + backlog at every moment, through drops, rejects and quarantine', async () => {
    const ledger = new ResultLedger();
    const spool = await ResultSpool.open(dir, { maxBytes: 4_000, segmentBytes: 500, ledger, log: quietLog });
    const quarantine = await ResultQuarantine.open(dir, ledger, quietLog);
    const accounts = () => ledger.accounts(spool.depth);
    // Checked between every two steps of the event loop, also while cursors and files are being written.
    let checks = 0;
    let stop = false;
    const watcher = (async () => {
      while (!stop) {
        assertBalanced(accounts(), `check ${checks++}`);
        await new Promise((r) => setImmediate(r));
      }
    })();
    let n = 0;
    for (let round = 0; round < 60; round++) {
      const appends = Array.from({ length: 1 + (round % 4) }, () => spool.append(range(n, (n += 3))));
      const batch = await spool.peek(4 + (round % 5));
      await Promise.all(appends); // the spool overflows while the batch is out
      if (batch.items.length === 0) continue;
      if (round % 7 === 3) continue; // delivery failed: the next peek gives the batch again, or counts it lost
      if (round % 11 === 5) {
        await quarantine.add(batch.items.slice(0, 1));
        await spool.ack(batch.token, { quarantined: 1, rejected: batch.items.length > 2 ? 1 : 0 });
      } else {
        await spool.ack(batch.token, { rejected: round % 3 === 0 ? 1 : 0 });
      }
    }
    for (const item of [...quarantine.items()]) await quarantine.release(item);
    stop = true;
    await watcher;
    const a = accounts();
    assertBalanced(a, 'at the end');
    assert.equal(a.produced, n);
    assert.ok(a.dropped > 0 && a.delivered > 0 && a.rejected > 0, JSON.stringify(a));
    assert.equal(a.quarantined, 0);
    assert.ok(checks > 100, `checked ${checks} times`);
    await spool.close();
  });

  it('counts a batch whose segment was dropped while it was out once: delivered if acknowledged, dropped if not', async () => {
    const ledger = new ResultLedger();
    const spool = await ResultSpool.open(dir, { maxBytes: 2_000, segmentBytes: 400, ledger, log: quietLog });
    await spool.append(range(0, 5));
    const out = await spool.peek(5);
    await spool.append(range(5, 60)); // drops the oldest segments, the one out for delivery among them
    assert.equal(ledger.delivered + ledger.dropped + spool.depth, 60);
    await spool.ack(out.token);
    assert.equal(ledger.delivered, 5, 'the receiver has them: delivered, not dropped');
    const droppedBefore = ledger.dropped;

    const second = await spool.peek(5);
    await spool.append(range(60, 120));
    await spool.peek(5); // the second batch failed, and its segment is gone: now it is lost
    assert.equal(ledger.delivered, 5);
    assert.ok(ledger.dropped >= droppedBefore + second.items.length);
    assertBalanced(ledger.accounts(spool.depth), 'after a lost batch');
    await spool.close();
  });

  it('rewrites the cursor in place (it never needs a new block), and reopens where it stood', async () => {
    let spool = await ResultSpool.open(dir, { maxBytes: 1_000_000, segmentBytes: 300, log: quietLog });
    const cursor = join(dir, 'cursor.json');
    const { ino, size } = statSync(cursor);
    assert.equal(size, 64);
    await spool.append(range(0, 40));
    for (let i = 0; i < 5; i++) await spool.ack((await spool.peek(3)).token);
    assert.equal(statSync(cursor).ino, ino, 'the same file, not a renamed copy');
    assert.equal(statSync(cursor).size, 64);
    JSON.parse(readFileSync(cursor, 'utf8'));
    await spool.close();
    spool = await ResultSpool.open(dir, { maxBytes: 1_000_000, segmentBytes: 300, log: quietLog });
    assert.equal(spool.depth, 25);
    assert.equal(spool.ledger.produced, 25, 'what was spooled at start counts as produced');
    await spool.close();
  });

  it('keeps quarantined results over a restart, and counts them', async () => {
    let ledger = new ResultLedger();
    let quarantine = await ResultQuarantine.open(dir, ledger, quietLog);
    await quarantine.add(range(0, 3));
    await quarantine.release(quarantine.items()[1]!, { rejected: true });
    assert.equal(ledger.rejected, 1);
    ledger = new ResultLedger();
    quarantine = await ResultQuarantine.open(dir, ledger, quietLog);
    assert.deepEqual(
      quarantine.items().map((i) => (i as { id: string }).id),
      ['r-00000', 'r-00002'],
    );
    assert.equal(ledger.quarantined, 2);
    assert.equal(ledger.produced, 2);
  });
});
