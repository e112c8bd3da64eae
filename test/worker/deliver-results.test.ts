import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ResultDelivery, type DeliveryOptions } from '../../src/worker/deliver-results.js';
import { createResultSink, type ResultSink } from '../../src/worker/result-sinks.js';
import { ResultSpool } from '../../src/worker/result-spool.js';
import { parseRetryAfter } from '../../src/worker/sink-http.js';
import { assertNoLeaks } from '../support/leaks.js';
import { quietLog } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

type Item = { id: string; n: number; bad?: boolean; pad?: string };
type Answer = { status: number; headers?: Record<string, string>; body?: unknown } | 'stall';

const item = (n: number): Item => ({ id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, n });
const items = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => item(from + i));
const idsOf = (list: Item[]) => list.map((i) => i.id);

/**
 * The output service's stand-in: records the ids of every batch it accepts, in arrival order. `answer`
 * decides each reply; by default 200. It listens on TCP (127.0.0.1) or a unix socket and can be taken
 * down and brought back on the same address.
 */
class Receiver {
  readonly accepted: string[] = [];
  readonly requests: Array<{ at: number; items: Item[]; headers: http.IncomingHttpHeaders; url: string }> = [];
  answer: (batch: Item[], n: number) => Answer = () => ({ status: 200 });
  private server?: http.Server;
  port = 0;

  async start(where: { port?: number; socketPath?: string } = {}): Promise<this> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const batch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Item[];
        this.requests.push({ at: Date.now(), items: batch, headers: req.headers, url: req.url ?? '' });
        const answer = this.answer(batch, this.requests.length);
        if (answer === 'stall') return;
        if (answer.status < 300) this.accepted.push(...idsOf(batch));
        if (answer.status === 400) this.accepted.push(...idsOf(batch.filter((i) => !i.bad)));
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(JSON.stringify(answer.body ?? { accepted: batch.length, duplicate: 0, rejected: 0, errors: [] }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (where.socketPath) server.listen(where.socketPath, resolve);
      else server.listen(where.port ?? this.port, '127.0.0.1', resolve);
    });
    if (!where.socketPath) this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/results`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** What a worker starting on `dir` would find still spooled. */
async function spooledDepth(dir: string): Promise<number> {
  const reopened = await ResultSpool.open(join(dir, 'spool'), { maxBytes: 10_000_000, log: quietLog });
  const depth = reopened.depth;
  await reopened.close();
  return depth;
}

/** A spool, a sink and a delivery on one directory, with fast test timings unless told otherwise. */
async function openWorker(dir: string, output: string, opts: Partial<DeliveryOptions> = {}) {
  const spool = await ResultSpool.open(join(dir, 'spool'), { maxBytes: 10_000_000, log: quietLog });
  const sink: ResultSink = createResultSink(output, { workerId: 'worker-7', apiKey: 'secret-key', log: quietLog });
  const delivery = new ResultDelivery({
    spool,
    sink,
    log: quietLog,
    baseDelayMs: 10,
    maxDelayMs: 100,
    lingerMs: 0,
    ...opts,
  });
  delivery.start();
  return {
    spool,
    delivery,
    async close(flushTimeoutMs = 2_000) {
      await delivery.stop({ flushTimeoutMs });
      await sink.close();
      await spool.close();
    },
  };
}

describe('ResultDelivery', { skip }, () => {
  let dir: string;
  const receivers: Receiver[] = [];
  const newReceiver = () => {
    const r = new Receiver();
    receivers.push(r);
    return r;
  };
  /** A receiver started and stopped again: its port now refuses connections. */
  const refusingReceiver = async () => {
    const r = await newReceiver().start();
    await r.stop();
    return r;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hopmap-delivery-'));
  });
  afterEach(async () => {
    for (const r of receivers.splice(0)) await r.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  after(async () => {
    await assertNoLeaks();
    const unixServers = process.getActiveResourcesInfo().filter((r) => r === 'PipeServerWrap');
    assert.equal(unixServers.length, 0, 'unix socket servers left open');
  });

  it('posts batches in order with the worker id and API key', async () => {
    const receiver = await newReceiver().start();
    const worker = await openWorker(dir, receiver.url, { batchSize: 4 });
    await worker.spool.append(items(0, 10));
    await waitFor('10 results', () => receiver.accepted.length === 10);
    assert.deepEqual(receiver.accepted, idsOf(items(0, 10)));
    assert.ok(receiver.requests.every((r) => r.items.length <= 4));
    const { headers, url } = receiver.requests[0]!;
    assert.equal(url, '/results');
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers.authorization, 'Bearer secret-key');
    assert.equal(headers['x-worker-id'], 'worker-7');
    await worker.close();
    assert.equal(worker.delivery.stats.delivered, 10);
    assert.equal(worker.delivery.stats.backlog, 0);
    assert.ok(worker.delivery.stats.lastSuccessAt !== undefined);
  });

  it('spools while the receiver is down and delivers everything, in order, exactly once when it is back', async () => {
    const receiver = newReceiver();
    await receiver.start();
    await receiver.stop(); // keeps its port: nothing listens there now
    const worker = await openWorker(dir, receiver.url);
    for (const r of items(0, 40)) await worker.spool.append([r]);
    await waitFor('failed attempts', () => worker.delivery.stats.failedAttempts >= 3);
    assert.equal(worker.delivery.stats.backlog, 40);
    assert.match(worker.delivery.stats.lastError ?? '', /ECONNREFUSED/);

    await receiver.start();
    await worker.spool.append(items(40, 50));
    await waitFor('50 results', () => receiver.accepted.length >= 50);
    await worker.close();
    assert.deepEqual(receiver.accepted, idsOf(items(0, 50)));
    assert.equal(worker.delivery.stats.backlog, 0);
    assert.equal(worker.delivery.stats.consecutiveFailures, 0);
  });

  it('waits as long as Retry-After asks before trying again', async () => {
    const receiver = await newReceiver().start();
    receiver.answer = (_batch, n) => (n === 1 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 });
    // No jitter and a tiny backoff, so only Retry-After can make it wait a second.
    const worker = await openWorker(dir, receiver.url, { random: () => 0 });
    await worker.spool.append(items(0, 3));
    await waitFor('delivery', () => receiver.accepted.length === 3);
    const [first, second] = receiver.requests;
    assert.ok(second!.at - first!.at >= 950, `second attempt ${second!.at - first!.at} ms after the first`);
    assert.equal(receiver.requests.length, 2);
    assert.deepEqual(receiver.accepted, idsOf(items(0, 3)));
    await worker.close();
  });

  it('loses nothing and repeats nothing over a restart while the receiver is away', async () => {
    const receiver = await newReceiver().start();
    let worker = await openWorker(dir, receiver.url);
    await worker.spool.append(items(0, 20));
    await waitFor('first 20', () => receiver.accepted.length === 20);

    // The receiver hangs: the batch in flight when the worker stops must not be lost, nor stop() hang.
    receiver.answer = () => 'stall';
    await worker.spool.append(items(20, 35));
    await waitFor('a stalled request', () => receiver.requests.length > 1);
    const stopping = Date.now();
    await worker.close(300);
    assert.ok(Date.now() - stopping < 15_000, 'stop() abandoned the stalled request at its flush deadline');
    assert.equal(worker.spool.depth, 15);
    await receiver.stop();

    worker = await openWorker(dir, receiver.url);
    await worker.spool.append(items(35, 45));
    await waitFor('failed attempts after the restart', () => worker.delivery.stats.failedAttempts >= 2);
    assert.equal(worker.delivery.stats.backlog, 25);
    receiver.answer = () => ({ status: 200 });
    await receiver.start();
    await waitFor('all 45', () => receiver.accepted.length >= 45);
    await worker.close();
    assert.deepEqual(receiver.accepted, idsOf(items(0, 45)), 'every id exactly once, in order');
  });

  it('stop() flushes what is spooled when the receiver answers, and keeps the rest when it does not', async () => {
    const receiver = await newReceiver().start();
    receiver.answer = () => ({ status: 503 });
    const worker = await openWorker(dir, receiver.url, { baseDelayMs: 60_000, maxDelayMs: 60_000, random: () => 1 });
    await worker.spool.append(items(0, 5));
    await waitFor('a refused attempt', () => worker.delivery.stats.failedAttempts === 1);
    // The worker now sleeps a minute; stop() cuts the sleep short and tries once more.
    receiver.answer = () => ({ status: 200 });
    await worker.close(5_000);
    assert.deepEqual(receiver.accepted, idsOf(items(0, 5)));

    const second = await openWorker(dir, receiver.url, { baseDelayMs: 60_000, maxDelayMs: 60_000, random: () => 1 });
    receiver.answer = () => ({ status: 503 });
    await second.spool.append(items(5, 8));
    const started = Date.now();
    await second.close(300);
    assert.ok(Date.now() - started < 10_000, 'stop() gave up at its flush deadline');
    assert.equal(await spooledDepth(dir), 3, 'undelivered results stay spooled');
  });

  it('stop() with no output answering at all tries once and leaves the rest spooled, without waiting out its flush window', async () => {
    const away = await refusingReceiver();
    const worker = await openWorker(dir, away.url);
    await worker.spool.append(items(0, 4));
    await waitFor('a refused connection', () => worker.delivery.stats.failedAttempts >= 1);
    const before = worker.delivery.stats.failedAttempts;
    await worker.close(60_000);
    assert.ok(
      worker.delivery.stats.failedAttempts - before <= 1,
      `${worker.delivery.stats.failedAttempts - before} attempts while stopping: one is enough to know nobody answers`,
    );
    assert.equal(await spooledDepth(dir), 4, 'undelivered results stay spooled for the next start');
  });

  it('stop() keeps trying for its flush window while one of two outputs answers, even with a 503', async () => {
    const away = await refusingReceiver();
    const busy = await newReceiver().start();
    busy.answer = (_batch, n) => (n < 4 ? { status: 503 } : { status: 200 });
    const worker = await openWorker(dir, `${away.url},${busy.url}`);
    await worker.spool.append(items(0, 4));
    await waitFor('a first 503', () => busy.requests.length >= 1);
    await worker.close(20_000);
    assert.deepEqual(busy.accepted, idsOf(items(0, 4)), 'delivered at the fourth try, during the stop');
  });

  it('counts a 400 that names the bad items as delivered, logs them and does not send them again', async () => {
    const receiver = await newReceiver().start();
    receiver.answer = (batch) => {
      const errors = batch.flatMap((it, index) =>
        it.bad ? [{ index, code: 'invalid_result', message: 'rtt must be a number' }] : [],
      );
      return errors.length
        ? {
            status: 400,
            body: { accepted: batch.length - errors.length, duplicate: 0, rejected: errors.length, errors },
          }
        : { status: 200 };
    };
    const worker = await openWorker(dir, receiver.url);
    await worker.spool.append([item(0), { ...item(1), bad: true }, item(2)]);
    await waitFor('the batch', () => worker.delivery.stats.backlog === 0);
    await worker.spool.append(items(3, 5));
    await waitFor('the next batch', () => receiver.accepted.length === 4);
    await worker.close();
    assert.deepEqual(receiver.accepted, idsOf([item(0), item(2), item(3), item(4)]));
    assert.equal(receiver.requests.length, 2, 'the batch with a bad item was sent once');
    assert.equal(worker.delivery.stats.rejected, 1);
    assert.equal(worker.delivery.stats.delivered, 4);
    assert.equal(worker.delivery.stats.failedAttempts, 0);
  });

  it('keeps results spooled while the receiver refuses the worker (401), and delivers them once it is fixed', async () => {
    const receiver = await newReceiver().start();
    receiver.answer = () => ({ status: 401, body: { error: { code: 'unauthorized', message: 'unknown API key' } } });
    const waits: number[] = [];
    const worker = await openWorker(dir, receiver.url, {
      maxDelayMs: 60_000,
      sleep: (ms) => (waits.push(ms), sleep(5)),
    });
    await worker.spool.append(items(0, 4));
    await waitFor('refusals', () => receiver.requests.length >= 3);
    assert.equal(worker.delivery.stats.backlog, 4);
    assert.match(worker.delivery.stats.lastError ?? '', /401: unauthorized: unknown API key/);
    assert.ok(
      waits.slice(0, 2).every((ms) => ms === 60_000),
      `waits ${waits.join(',')}`,
    );
    receiver.answer = () => ({ status: 200 });
    await waitFor('delivery', () => receiver.accepted.length === 4);
    await worker.close();
    assert.deepEqual(receiver.accepted, idsOf(items(0, 4)));
  });

  it('splits a batch the receiver finds too large (413), and drops a single result that can never fit', async () => {
    const receiver = await newReceiver().start();
    receiver.answer = (batch) =>
      batch.length > 3 || batch.some((i) => i.pad)
        ? { status: 413, body: { error: { code: 'too_large', message: 'body over 1kb' } } }
        : { status: 200 };
    const worker = await openWorker(dir, receiver.url);
    await worker.spool.append([...items(0, 5), { ...item(5), pad: 'x'.repeat(2000) }, ...items(6, 11)]);
    await waitFor('the backlog to clear', () => worker.delivery.stats.backlog === 0);
    await worker.close();
    assert.deepEqual(receiver.accepted, idsOf([...items(0, 5), ...items(6, 11)]));
    assert.equal(worker.delivery.stats.rejected, 1);
    assert.equal(worker.delivery.stats.delivered, 10);
  });

  it('backs off exponentially with full jitter up to the cap, and starts over after a success', async () => {
    const receiver = await newReceiver().start();
    const failFirst = 9;
    receiver.answer = (_batch, n) => (n <= failFirst || n === failFirst + 2 ? { status: 503 } : { status: 200 });
    const draws = [0.9, 0.1, 0.5, 1, 0.25, 0.75, 1, 0.6, 0.3, 0.8];
    let d = 0;
    const waits: number[] = [];
    const worker = await openWorker(dir, receiver.url, {
      baseDelayMs: 500,
      maxDelayMs: 60_000,
      random: () => draws[d++ % draws.length]!,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    await worker.spool.append(items(0, 2));
    await waitFor('first batch', () => receiver.accepted.length === 2);
    await worker.spool.append(items(2, 3));
    await waitFor('second batch', () => receiver.accepted.length === 3);
    await worker.close();
    // attempt k waits random() * min(cap, base * 2^k): 500, 1000, ... 32000, then the 60 s cap; a success resets it
    const expected = [
      0.9 * 500,
      0.1 * 1000,
      0.5 * 2000,
      1 * 4000,
      0.25 * 8000,
      0.75 * 16000,
      1 * 32000,
      0.6 * 60_000,
      0.3 * 60_000,
      0.8 * 500,
    ];
    assert.deepEqual(waits, expected.map(Math.round));
    assert.equal(worker.delivery.stats.failedAttempts, failFirst + 1);
  });

  it('delivers over a unix socket, on the default and on a given HTTP path', async () => {
    const socketPath = join(dir, 'output.sock');
    const receiver = await newReceiver().start({ socketPath });
    let worker = await openWorker(dir, `unix://${socketPath}`);
    await worker.spool.append(items(0, 3));
    await waitFor('3 results', () => receiver.accepted.length === 3);
    await worker.close();
    worker = await openWorker(dir, `unix://${socketPath}:/v1/results`);
    await worker.spool.append(items(3, 5));
    await waitFor('5 results', () => receiver.accepted.length === 5);
    await worker.close();
    assert.deepEqual(receiver.accepted, idsOf(items(0, 5)));
    assert.deepEqual(
      receiver.requests.map((r) => r.url),
      ['/results', '/v1/results'],
    );
    assert.equal(receiver.requests[0]!.headers['x-worker-id'], 'worker-7');
  });

  it('appends to a file, given as a path or a file:// URL', async () => {
    const out = join(dir, 'results.ndjson');
    let worker = await openWorker(dir, out);
    await worker.spool.append(items(0, 4));
    await waitFor('the spool to drain', () => worker.delivery.stats.backlog === 0);
    await worker.close();
    worker = await openWorker(dir, `file://${out}`);
    await worker.spool.append(items(4, 6));
    await waitFor('the spool to drain', () => worker.delivery.stats.backlog === 0);
    await worker.close();
    const lines = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Item);
    assert.deepEqual(idsOf(lines), idsOf(items(0, 6)));
  });

  it('refuses an output it does not understand, and reads both Retry-After forms', () => {
    assert.throws(
      () => createResultSink('ftp://example.net/results', { workerId: 'w', log: quietLog }),
      /expected an http/,
    );
    assert.throws(() => createResultSink('unix://relative.sock', { workerId: 'w', log: quietLog }), /unix:\/\/\/path/);
    assert.equal(parseRetryAfter('120'), 120_000);
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 30_000);
    assert.equal(parseRetryAfter('soon'), undefined);
  });
});
