import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { freePort } from '../../src/http/free-port.js';
import { createKey } from '../../src/keys/key-store.js';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { parseTarget } from '../../src/net/ip-address.js';
import { BIN_PATH } from '../../src/version.js';
import { pollUntil } from '../support/http-client.js';
import { startInput, writeTargetDir } from '../support/input-fixture.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const loopback = (() => {
  const parsed = parseTarget('127.0.0.0/30');
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.block;
})();

/**
 * A real `hopmap ping` whose input_file and output_file are the input and output themselves (no gateway),
 * with api_key. TCP pings to loopback (a refused connection is an answer): no root, nothing leaves the machine.
 */
describe("the worker's api_key against input and output directly", { skip }, () => {
  let db: TestDatabase;
  let dir: string;
  let targets: string;
  let input: RunningService;
  let output: RunningService;
  let client: pg.Client;
  const workers: Spawned[] = [];

  const startWorker = async (name: string, config: Record<string, string | number | boolean>) => {
    const port = await freePort();
    const file = join(dir, `${name}.yaml`);
    const base = {
      worker_id: name,
      spool_dir: join(dir, `spool-${name}`),
      health_check_port: port,
      health_check_host: '127.0.0.1',
      ping_method: 'tcp',
      enable_traceroute: false,
      isolation_check: false,
      interval_seconds: 1,
      pps: 50,
    };
    writeFileSync(
      file,
      Object.entries({ ...base, ...config })
        .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
        .join('\n'),
    );
    const worker = spawnNode([BIN_PATH, 'ping', '-c', file]);
    workers.push(worker);
    await pollUntil(`http://127.0.0.1:${port}/health`, (r) => r.status === 200, 60_000);
    return { worker, health: `http://127.0.0.1:${port}/health` };
  };

  before(async () => {
    db = await createTestDatabase('worker_keys');
    dir = mkdtempSync(join(tmpdir(), 'hopmap-worker-keys-'));
    targets = writeTargetDir({ 'loopback.txt': '127.0.0.0/30\n' });
    input = await startInput(db.url, { targets, allow: [loopback] });
    output = await startService(outputService(outputWiring), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    client = new pg.Client(db.url);
    await client.connect();
  });

  after(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await client?.end();
    await Promise.all([input?.stop(), output?.stop()]);
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(targets, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('gets targets as its own consumer and delivers results with a worker key', async () => {
    const { key } = await createKey(input.pool, { name: 'edge-1', role: 'worker' });
    const { worker } = await startWorker('probe-a', { input_file: input.url, output_file: output.url, api_key: key });
    const deadline = Date.now() + 60_000;
    let stored = 0;
    while (
      Date.now() < deadline &&
      (stored = Number(
        (await client.query(`select count(*) from measurements.results where worker = 'probe-a'`)).rows[0].count,
      )) < 2
    )
      await sleep(200);
    assert.ok(stored >= 2, `results stored: ${stored}\n${worker.output()}`);
    const consumers = (await client.query<{ consumer_id: string }>('select distinct consumer_id from leases')).rows.map(
      (r) => r.consumer_id,
    );
    assert.deepEqual(consumers, ['edge-1/probe-a'], "leased in the key's own namespace");
    worker.child.kill('SIGTERM');
    assert.equal((await worker.exited).code, 0, worker.output());
  });

  it('says plainly when its key is refused: a feeder key may not lease or post results', async () => {
    const { key } = await createKey(input.pool, { name: 'wrong-role', role: 'feeder' });
    const leasing = await startWorker('probe-b', {
      input_file: input.url,
      output_file: join(dir, 'b.ndjson'),
      api_key: key,
    });
    await leasing.worker.waitFor(
      /GET targets answered 403: .*forbidden_role.*may not lease targets: it needs role worker/,
      30_000,
    );
    const h = await pollUntil(leasing.health, (r) => r.json().input?.last_fetch_ok === false, 30_000);
    assert.equal(h.json().input.last_fetch_ok, false);

    const addresses = join(dir, 'addresses.txt');
    writeFileSync(addresses, '127.0.0.1\n');
    const posting = await startWorker('probe-c', { input_file: addresses, output_file: output.url, api_key: key });
    const refused = await pollUntil(
      posting.health,
      (r) => /may not post results: it needs role worker/.test(r.json().delivery?.lastError ?? ''),
      60_000,
    );
    assert.match(refused.json().delivery.lastError, /HTTP 403: forbidden_role/, posting.worker.output());
    await posting.worker.waitFor(/the receiver refuses this worker/, 10_000);
  });
});
