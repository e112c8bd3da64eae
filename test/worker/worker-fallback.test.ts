import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../src/http/free-port.js';
import { BIN_PATH } from '../../src/version.js';
import { pollUntil } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { needs } from '../support/needs.js';

const skip = needs('root');

describe('the worker without CAP_NET_RAW', { skip }, () => {
  let dir: string;
  let worker: Spawned | undefined;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hopmap-fallback-'));
    chmodSync(dir, 0o777);
    // Loopback only: nothing leaves the machine.
    writeFileSync(join(dir, 'targets.txt'), '127.0.0.1\n127.0.0.2\n');
  });

  after(async () => {
    if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await worker?.exited;
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('says so on /health and falls back to TCP pings (a refused connection is an answer), without traceroutes', async () => {
    const port = await freePort();
    const out = join(dir, 'results.ndjson');
    // As `nobody`, with every capability dropped: raw sockets are refused, as on an unconfigured edge node.
    worker = spawnNode([], { HOME: dir }, [
      'setpriv',
      '--reuid=nobody',
      '--regid=nogroup',
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      process.execPath,
      '--import',
      'tsx',
      BIN_PATH,
      'ping',
      '--input-file',
      join(dir, 'targets.txt'),
      '--output-file',
      out,
      '--spool-dir',
      join(dir, 'spool'),
      '--health-check-port',
      String(port),
      '--health-check-host',
      '127.0.0.1',
      '--worker-id',
      'no-raw',
    ]);
    const health = await pollUntil(`http://127.0.0.1:${port}/health`, (r) => r.status === 200, 60_000);
    const body = health.json();
    assert.equal(body.raw_sockets.available, false);
    assert.match(body.raw_sockets.reason, /CAP_NET_RAW/);
    assert.equal(body.ping_method, 'tcp');

    const deadline = Date.now() + 60_000;
    while (
      (!existsSync(out) || readFileSync(out, 'utf8').split('\n').filter(Boolean).length < 2) &&
      Date.now() < deadline
    )
      await sleep(100);
    worker.child.kill('SIGTERM');
    assert.equal((await worker.exited).code, 0, worker.output());

    const results = readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.ok(results.length >= 2);
    for (const r of results) {
      assert.equal(r.type, 'ping', 'no traceroute without raw sockets');
      assert.equal(r.method, 'tcp');
      assert.equal(r.received, 3);
      assert.ok(r.rtts_us.every((us: number) => us > 0 && us < 1_000_000));
    }
  });
});
