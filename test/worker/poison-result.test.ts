import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { judgeHealth } from '../../src/manager/registry/judge-health.js';
import { ResultDelivery } from '../../src/worker/deliver-results.js';
import { ResultLedger } from '../../src/worker/result-ledger.js';
import { ResultQuarantine } from '../../src/worker/result-quarantine.js';
import { createResultSink } from '../../src/worker/result-sinks.js';
import { ResultSpool } from '../../src/worker/result-spool.js';
import { resultsAtRisk } from '../../src/worker/results-at-risk.js';
import { assertNoLeaks } from '../support/leaks.js';
import { quietLog } from '../support/test-databases.js';
import { until } from '../support/until.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

type Item = { id: string; n: number };
const item = (n: number): Item => ({ id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, n });
const items = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => item(from + i));

/**
 * The output's stand-in: fails every batch holding a poisoned id with 500 (as an output whose database
 * refuses one row did), stores everything else; `down` fails every batch; `cured` stores the poison too.
 */
class PoisonedOutput {
  readonly stored = new Set<string>();
  posts = 0;
  down = false;
  cured = false;
  private server?: http.Server;
  constructor(readonly poison: Set<string>) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.posts++;
        const batch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Item[];
        const fail = this.down || (!this.cured && batch.some((i) => this.poison.has(i.id)));
        res.writeHead(fail ? 500 : 200, { 'content-type': 'application/json' });
        if (!fail) for (const i of batch) this.stored.add(i.id);
        res.end(
          JSON.stringify(
            fail
              ? { error: { code: 'internal', message: 'insert failed' } }
              : { accepted: batch.length, duplicate: 0, rejected: 0, errors: [] },
          ),
        );
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/results`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function openWorker(dir: string, output: string) {
  const ledger = new ResultLedger();
  const spool = await ResultSpool.open(join(dir, 'spool'), { maxBytes: 50_000_000, ledger, log: quietLog });
  const quarantine = await ResultQuarantine.open(join(dir, 'spool'), ledger, quietLog);
  const sink = createResultSink(output, { workerId: 'w-poison', log: quietLog });
  const delivery = new ResultDelivery({
    spool,
    sink,
    quarantine,
    log: quietLog,
    baseDelayMs: 10,
    maxDelayMs: 50,
    lingerMs: 0,
    quarantineRetryMs: 300,
    quarantineRetryMaxMs: 600,
  });
  delivery.start();
  return {
    spool,
    quarantine,
    delivery,
    balanced() {
      const s = delivery.stats;
      assert.equal(s.produced, s.delivered + s.rejected + s.quarantined + s.dropped + s.backlog, JSON.stringify(s));
    },
    async close() {
      await delivery.stop({ flushTimeoutMs: 2_000 });
      await sink.close();
      await spool.close();
    },
  };
}

describe('drill: a result the output cannot store, among thousands', { skip }, () => {
  let dir: string;
  const outputs: PoisonedOutput[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hopmap-poison-'));
  });
  afterEach(async () => {
    for (const o of outputs.splice(0)) await o.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  after(() => assertNoLeaks());

  it('quarantines the poison, delivers the 2,999 others meanwhile, and delivers the poison once the output is fixed', async () => {
    const all = items(0, 3000);
    const poison = all[1234]!;
    const output = new PoisonedOutput(new Set([poison.id]));
    outputs.push(output);
    const worker = await openWorker(dir, await output.start());
    for (let i = 0; i < 3000; i += 100) await worker.spool.append(all.slice(i, i + 100));

    await until('every other result stored', () => (output.stored.size === 2999 ? true : undefined), {
      timeoutMs: 30_000,
    });
    await until('the poison quarantined', () =>
      worker.delivery.stats.quarantined === 1 && worker.delivery.stats.backlog === 0 ? true : undefined,
    );
    worker.balanced();
    assert.ok(!output.stored.has(poison.id));
    assert.deepEqual(worker.quarantine.items(), [poison]);
    assert.deepEqual(
      readFileSync(join(dir, 'spool', 'quarantine.ndjson'), 'utf8'),
      `${JSON.stringify(poison)}\n`,
      'kept on disk beside the spool',
    );
    const s = worker.delivery.stats;
    assert.deepEqual(
      {
        produced: s.produced,
        delivered: s.delivered,
        quarantined: s.quarantined,
        dropped: s.dropped,
        rejected: s.rejected,
      },
      { produced: 3000, delivered: 2999, quarantined: 1, dropped: 0, rejected: 0 },
    );
    assert.ok(output.posts < 80, `found it in ${output.posts} requests`);

    // /health says degraded, and the manager shows why.
    const reasons = resultsAtRisk(
      { delivery: s, droppedLastHour: 0, spoolFullness: worker.spool.fullness, spoolCapacity: worker.spool.capacity },
      { stallMs: 300_000 },
    );
    assert.deepEqual(reasons.length, 1);
    assert.match(reasons[0]!, /1 results quarantined/);
    const verdict = judgeHealth('http://w/health', {
      answer: { status: 200, json: { status: 'degraded', results_at_risk: reasons, delivery: s }, text: '' },
    });
    assert.equal(verdict.status, 'degraded');
    assert.match(verdict.error ?? '', /quarantined/);

    // Later results still flow while the poison waits.
    await worker.spool.append(items(3000, 3010));
    await until('later results', () => (output.stored.size === 3009 ? true : undefined));
    output.cured = true;
    // The quarantine file is rewritten after the count drops (under load, a moment later): wait for both.
    const quarantineFile = () => readFileSync(join(dir, 'spool', 'quarantine.ndjson'), 'utf8');
    await until('the poison delivered and its quarantine file emptied', () =>
      output.stored.has(poison.id) && worker.delivery.stats.quarantined === 0 && quarantineFile() === ''
        ? true
        : undefined,
    );
    worker.balanced();
    assert.equal(worker.delivery.stats.delivered, 3010);
    await worker.close();
  });

  it('quarantines nothing while the output fails on everything, and delivers all once it is back', async () => {
    const output = new PoisonedOutput(new Set());
    outputs.push(output);
    output.down = true;
    const worker = await openWorker(dir, await output.start());
    await worker.spool.append(items(0, 600));
    await until('several searches', () => (output.posts > 40 ? true : undefined), { timeoutMs: 30_000 });
    assert.equal(worker.delivery.stats.quarantined, 0, 'probes of other results fail too: an outage, not poison');
    assert.equal(worker.delivery.stats.backlog, 600);
    output.down = false;
    await until('all delivered', () =>
      output.stored.size === 600 && worker.delivery.stats.backlog === 0 ? true : undefined,
    );
    worker.balanced();
    assert.equal(worker.delivery.stats.delivered, 600);
    await worker.close();
  });

  it('isolates two poisoned results side by side, with two outputs that both fail on them', async () => {
    const bad = new Set([item(700).id, item(701).id]);
    const a = new PoisonedOutput(bad);
    const b = new PoisonedOutput(bad);
    outputs.push(a, b);
    const worker = await openWorker(dir, `${await a.start()},${await b.start()}`);
    await worker.spool.append(items(0, 1500));
    await until(
      'the others stored',
      () =>
        new Set([...a.stored, ...b.stored]).size === 1498 && worker.delivery.stats.backlog === 0 ? true : undefined,
      { timeoutMs: 30_000 },
    );
    assert.equal(worker.delivery.stats.quarantined, 2);
    assert.equal(worker.delivery.stats.delivered, 1498);
    worker.balanced();
    await worker.close();
  });
});
