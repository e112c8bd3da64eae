import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { inputService } from '../../src/input/input-service.js';
import { buildLab } from '../../src/lab/build-lab.js';
import type { Lab } from '../../src/lab/open-lab.js';
import { loadTopology } from '../../src/lab/topology.js';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { parseTarget } from '../../src/net/ip-address.js';
import { BIN_PATH, PROJECT_ROOT } from '../../src/version.js';
import { removeStaleTestLabs, testLabName } from '../lab/test-lab-name.js';
import { postJson, request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'root', 'ip');

const TAG = 'toutput';
const TARGETS = Array.from({ length: 30 }, (_, i) => `198.19.100.${i + 1}`);

describe('traceroutes from the lab, through the output, back to the target feeder', { skip }, () => {
  let lab: Lab;
  let db: TestDatabase;
  let dir: string;
  let output: RunningService;
  let input: RunningService;

  before(async () => {
    await removeStaleTestLabs(TAG);
    lab = await buildLab(loadTopology(`${PROJECT_ROOT}/lab/diamond.yaml`), { name: testLabName(TAG) });
    db = await createTestDatabase('lab_traceroutes');
    dir = mkdtempSync(join(tmpdir(), 'hopmap-labout-'));
    output = await startService(outputService({ ...outputWiring, auth: 'off' }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    const labRange = parseTarget('198.18.0.0/15');
    assert.ok(labRange.ok);
    input = await startService(
      inputService({
        auth: 'off',
        ipv6: false,
        allow: [labRange.block],
        leaseTtlMs: 60_000,
        passCooldownMs: 3_600_000,
        maxBatch: 1000,
      }),
      { databaseUrl: db.url, host: '127.0.0.1', port: 0, log: quietLog },
    );
  });

  after(async () => {
    await Promise.all([output?.stop(), input?.stop()]);
    await lab?.teardown();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('stores links that are all true router links, and serves the discovered hops as new targets', async () => {
    // The real worker, in the lab's probe namespace, with UDP Paris traceroutes and no stop set (every hop, every time).
    writeFileSync(join(dir, 'targets.txt'), TARGETS.join('\n'));
    const out = join(dir, 'results.ndjson');
    const run = await lab.exec(
      'probe',
      'timeout',
      [
        '-s',
        'TERM',
        '12',
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
        '18093',
        '--traceroute-method',
        'udp-paris',
        '--pps',
        '1000',
        '--worker-id',
        'lab',
        '--log-level',
        'warn',
      ],
      { timeoutMs: 60_000 },
    );
    const results = readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.ok(
      results.filter((r) => r.type === 'traceroute').length >= TARGETS.length,
      `worker produced traceroutes (exit ${run.code}): ${run.stderr.slice(-500)}`,
    );

    const res = await postJson(`${output.url}/results`, results);
    assert.equal(res.status, 200, res.text);

    const client = new pg.Client(db.url);
    await client.connect();
    const { rows } = await client.query<{ near: string; far: string }>(
      `select host(near) as near, host(far) as far from links`,
    );
    await client.end();
    const truth = lab.truth();
    const trueLinks = new Set<string>();
    for (const t of TARGETS)
      for (const seq of truth.truePaths('probe', t))
        seq.slice(1).forEach((b, i) => seq[i] && b && trueLinks.add(`${seq[i]}>${b}`));
    assert.ok(rows.length >= 4, `links found: ${JSON.stringify(rows)}`);
    for (const l of rows) assert.ok(trueLinks.has(`${l.near}>${l.far}`), `false link ${l.near} > ${l.far}`);
    // Both branches of the ECMP split were crossed by some flow.
    const branches = truth.truePaths('probe', TARGETS[0]!).map((seq) => seq[2]);
    for (const b of branches)
      assert.ok(
        rows.some((l) => l.near === b || l.far === b),
        `branch ${b} missing`,
      );

    // The routers' interfaces are now targets: a new consumer of the feeder gets them.
    const routerInterfaces = new Set(rows.flatMap((l) => [l.near, l.far]).filter((a) => !TARGETS.includes(a)));
    const served = new Set<string>();
    for (;;) {
      const batch = (await request(`${input.url}/targets?n=100`, { headers: { 'x-consumer-id': 'fresh' } })).json();
      if (batch.targets.length === 0) break;
      for (const t of batch.targets) served.add(t);
    }
    for (const iface of routerInterfaces) assert.ok(served.has(iface), `hop ${iface} not served`);
  });
});
