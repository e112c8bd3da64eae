import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inputService } from '../../src/input/input-service.js';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { pollUntil, postJson } from '../support/http-client.js';
import { bearer, testKey } from '../support/keys.js';
import { assertNoLeaks } from '../support/leaks.js';
import { traceResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

describe('output --input-url: the split deployment', { skip }, () => {
  let outputDb: TestDatabase;
  let inputDb: TestDatabase;
  let input: RunningService;
  let output: RunningService;
  let admin: Record<string, string>;

  before(async () => {
    [outputDb, inputDb] = await Promise.all([createTestDatabase('forward_out'), createTestDatabase('forward_in')]);
    input = await startService(
      inputService({ ipv6: false, allow: [], leaseTtlMs: 60_000, passCooldownMs: 60_000, maxBatch: 100 }),
      { databaseUrl: inputDb.url, host: '127.0.0.1', port: 0, log: quietLog },
    );
    admin = bearer(await testKey(inputDb.url, 'admin'));
    // The input takes hops only with a feeder key; the output's own results are not this test's subject.
    const inputKey = await testKey(inputDb.url, 'feeder', 'output-feeder');
    output = await startService(outputService({ ...outputWiring, inputUrl: input.url, inputKey, auth: 'off' }), {
      databaseUrl: outputDb.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
  });

  after(async () => {
    await Promise.all([output?.stop(), input?.stop()]);
    await Promise.all([outputDb?.drop(), inputDb?.drop()]);
    await assertNoLeaks();
  });

  it('posts the new hops of stored traceroutes to an input service on another database', async () => {
    const res = await postJson(
      `${output.url}/results`,
      traceResult('20.5.5.5', ['31.5.0.1', '31.5.0.2', null, '20.5.5.5']),
    );
    assert.equal(res.status, 200);
    const status = await pollUntil(`${input.url}/status`, (r) => r.json().pool.hops >= 2, 10_000, admin);
    assert.equal(status.json().pool.hops, 2);
    const batch = (await pollUntil(`${input.url}/targets?n=10&consumer=c`, () => true, 30_000, admin)).json();
    assert.deepEqual([...batch.targets].sort(), ['31.5.0.1', '31.5.0.2']);
  });
});
