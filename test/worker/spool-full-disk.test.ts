import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { freePort } from '../../src/http/free-port.js';
import { judgeHealth } from '../../src/manager/registry/judge-health.js';
import { ResultSpool } from '../../src/worker/result-spool.js';
import { runWorker, type RunningWorker } from '../../src/worker/run-worker.js';
import { workerConfig } from '../../src/worker/worker-config.js';
import { assertNoLeaks } from '../support/leaks.js';
import { quietLog } from '../support/test-databases.js';
import { until } from '../support/until.js';
import { needs } from '../support/needs.js';

const skip = needs('root');

const DISK = 256 * 1024;

type Accounts = {
  produced: number;
  delivered: number;
  rejected: number;
  quarantined: number;
  dropped: number;
  backlog: number;
};
const balanced = (a: Accounts, when: string) =>
  assert.equal(
    a.produced,
    a.delivered + a.rejected + a.quarantined + a.dropped + a.backlog,
    `${when}: ${JSON.stringify(a)}`,
  );

async function health(url: string): Promise<Record<string, any>> {
  return (await fetch(`${url}/health`)).json() as Promise<Record<string, any>>;
}

/** The `hopmap_results_*` series of /metrics, by name. */
async function resultMetrics(url: string): Promise<Accounts> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    produced: value('hopmap_results_produced_total'),
    delivered: value('hopmap_results_delivered_total'),
    rejected: value('hopmap_results_rejected_total'),
    quarantined: value('hopmap_results_quarantined'),
    dropped: value('hopmap_results_dropped_total'),
    backlog: value('hopmap_results_backlog'),
  };
}

describe('drill: the spool on a 256 KiB disk with the output away', { skip }, () => {
  let dir: string;
  let mount: string;
  let worker: RunningWorker | undefined;
  let output: http.Server | undefined;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hopmap-fulldisk-'));
    mount = join(dir, 'disk');
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK}`, 'tmpfs', mount]);
    // Loopback addresses on a closed port: a refused connection is an answer, so results come fast.
    writeFileSync(
      join(dir, 'targets.txt'),
      Array.from({ length: 200 }, (_, i) => `127.0.${Math.floor(i / 250)}.${(i % 250) + 1}`).join('\n'),
    );
  });

  after(async () => {
    await worker?.stop();
    await new Promise<void>((resolve) =>
      output ? (output.closeAllConnections(), output.close(() => resolve())) : resolve(),
    );
    execFileSync('umount', [mount]);
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('loses only what did not fit, oldest first, keeps its counts exact and its cursor, and says degraded', async (t) => {
    const port = await freePort();
    const spoolDir = join(mount, 'spool');
    const cfg = workerConfig.parse({
      inputFile: join(dir, 'targets.txt'),
      outputFile: `http://127.0.0.1:${port}/results`,
      workerId: 'w-full-disk',
      pingMethod: 'tcp',
      tcpPorts: '9',
      pingCount: 1,
      probeTimeout: '500ms',
      enableTraceroute: false,
      isolationCheck: false,
      pps: 50_000,
      concurrency: 64,
      batchSize: 200,
      intervalSeconds: 0.01,
      cooldownMinutes: 0,
      healthCheckPort: 0,
      healthCheckHost: '127.0.0.1',
      spoolDir,
      spoolMaxMb: 100,
      shutdownFlush: '2s',
    });
    // The summary the worker logs after its last flush holds the final counts.
    const lines: Array<Record<string, any>> = [];
    worker = await runWorker(cfg, pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) }));
    const url = worker.url;

    // Keep measuring until the disk has filled several times over.
    const full = await until(
      'the disk filled several times',
      async () => {
        const h = await health(url);
        balanced(h.delivery, 'while filling');
        return h.delivery.dropped > 0 && h.delivery.produced > 6_000 ? h : undefined;
      },
      { timeoutMs: 120_000, everyMs: 200 },
    );
    const m = await resultMetrics(url);
    balanced(m, '/metrics');
    assert.ok(m.dropped > 0 && m.produced >= full.delivery.produced, JSON.stringify(m));

    assert.equal(full.status, 'degraded');
    const reasons = (full.results_at_risk as string[]).join('\n');
    assert.match(reasons, /results dropped in the last hour/);
    assert.match(reasons, /spool \d+% full/);
    assert.match(
      judgeHealth(`${url}/health`, { answer: { status: 200, json: full, text: '' } }).error ?? '',
      /dropped in the last hour/,
    );
    assert.equal(full.delivery.delivered, 0);
    // Segments follow the disk: a 1/16 of it, so a drop costs that much, never the whole spool.
    assert.ok(full.spool.capacity <= DISK, `capacity ${full.spool.capacity}`);
    const cursor = join(spoolDir, 'cursor.json');
    assert.equal(statSync(cursor).size, 64);
    JSON.parse(readFileSync(cursor, 'utf8'));

    // The output comes back: whatever is spooled reaches it.
    const received = new Set<string>();
    let bytes = 0;
    output = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        for (const r of JSON.parse(body) as Array<{ id: string }>) received.add(r.id);
        bytes += body.length;
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"accepted":0,"duplicate":0,"rejected":0,"errors":[]}');
      });
    });
    await new Promise<void>((resolve) => output!.listen(port, '127.0.0.1', resolve));
    const spooledAtReturn = full.delivery.backlog as number;
    await until('the backlog delivered', () => (received.size >= spooledAtReturn ? true : undefined), {
      timeoutMs: 60_000,
    });
    const stopping = worker;
    worker = undefined;
    await stopping.stop();

    // What did not fit is all that was lost: the spool still held at least half the disk's worth of results.
    const lineBytes = bytes / received.size;
    assert.ok(
      spooledAtReturn * lineBytes >= DISK / 2,
      `${spooledAtReturn} results of ~${Math.round(lineBytes)} bytes spooled on a ${DISK}-byte disk`,
    );
    const summary = lines.find((l) => l.msg === 'worker summary')!.delivery as Accounts;
    balanced(summary, 'after the last flush');
    assert.equal(
      summary.delivered,
      received.size,
      'every result counted as delivered arrived, and none that arrived is counted as lost',
    );
    assert.equal(summary.quarantined + summary.rejected, 0);
    // The cursor survived the full disk: the spool reopens exactly where delivery stood.
    const reopened = await ResultSpool.open(spoolDir, { maxBytes: 100 * 1024 * 1024, log: quietLog });
    assert.equal(reopened.depth, summary.backlog);
    await reopened.close();
    t.diagnostic(
      `produced ${summary.produced}, delivered ${summary.delivered}, dropped ${summary.dropped} (${Math.round((100 * summary.dropped) / summary.produced)}%), spooled when the output came back ${spooledAtReturn}, left ${summary.backlog}`,
    );
  });
});
