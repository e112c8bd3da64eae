import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { pollUntil, request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const SERVICE = 'test/fixtures/run-demo-service.ts';

async function startDemo(db: TestDatabase, env: Record<string, string> = {}): Promise<{ proc: Spawned; url: string }> {
  const proc = spawnNode([SERVICE], { DATABASE_URL: db.url, ...env });
  const [, url] = await proc.waitFor(/LISTENING (http:\S+)/);
  return { proc, url: url! };
}

describe('graceful shutdown of a service process', { skip }, () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('graceful_shutdown');
  });
  after(async () => {
    await db?.drop();
    await assertNoLeaks();
  });

  it('on SIGTERM turns /ready 503, lets the slow in-flight request finish, deregisters and exits 0', async () => {
    const { proc, url } = await startDemo(db, { DRAIN_DELAY_MS: '3000' });
    const slow = request(`${url}/slow?ms=4000`);
    await sleep(300);
    proc.child.kill('SIGTERM');

    // The signal arrives asynchronously; within the drain delay /ready must turn 503.
    const ready = await pollUntil(`${url}/ready`, (r) => r.status === 503, 2_500);
    assert.equal(ready.status, 503);
    assert.equal(ready.json().status, 'draining');

    const res = await slow;
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { done: true });

    const { code } = await proc.exited;
    assert.equal(code, 0, proc.output());
    await assert.rejects(request(`${url}/health`), /ECONNREFUSED/);

    const client = new pg.Client(db.url);
    await client.connect();
    const { rowCount } = await client.query('select 1 from service_instances');
    await client.end();
    assert.equal(rowCount, 0, 'the instance removed its registration');
  });

  it('exits at once on a second signal, without waiting for in-flight work', async () => {
    const { proc, url } = await startDemo(db);
    const slow = request(`${url}/slow?ms=60000`).catch((err: Error) => err);
    await sleep(300);
    proc.child.kill('SIGTERM');
    await sleep(300);
    proc.child.kill('SIGTERM');
    const { code } = await proc.exited;
    assert.equal(code, 1);
    assert.ok((await slow) instanceof Error, 'the unfinished request was cut');
    assert.match(proc.output(), /second signal/);
  });
});
