import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { freePort } from '../../src/http/free-port.js';
import { BIN_PATH } from '../../src/version.js';
import { pollUntil, postJson } from '../support/http-client.js';
import { bearer, testKey } from '../support/keys.js';
import { assertNoLeaks } from '../support/leaks.js';
import { pingResult } from '../support/result-factory.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

describe('kill -9 of an output instance while batches are in flight', { skip }, () => {
  let db: TestDatabase;
  const procs: Spawned[] = [];

  async function startOutput(): Promise<string> {
    const port = await freePort();
    const proc = spawnNode(
      [BIN_PATH, 'output', '--host', '127.0.0.1', '--port', String(port), '--health-port', '0', '--no-migrate'],
      { DATABASE_URL: db.url, LOG_LEVEL: 'warn' },
    );
    procs.push(proc);
    const url = `http://127.0.0.1:${port}`;
    assert.equal((await pollUntil(`${url}/ready`, (r) => r.status === 200, 60_000)).status, 200, proc.output());
    return url;
  }

  before(async () => {
    db = await createTestDatabase('kill_output');
  });

  after(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await db?.drop();
    await assertNoLeaks();
  });

  it('loses no result whose batch got a 2xx; the rest are sent again and stored once', async () => {
    const [victim, survivor] = [await startOutput(), await startOutput()];
    const key = bearer(await testKey(db.url, 'worker'));
    const batches = Array.from({ length: 120 }, (_, b) =>
      Array.from({ length: 200 }, (_, i) => pingResult(`20.1.${b}.${i}`)),
    );
    const committed = new Set<string>();
    let cut = 0;
    let next = 0;
    let victimAlive = true;
    const sender = async (s: number) => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        for (;;) {
          const url = victimAlive && s % 2 === 0 ? victim : survivor;
          try {
            const res = await postJson(`${url}/results`, batch, key);
            if (res.status >= 200 && res.status < 300) {
              for (const r of batch) committed.add(r.id);
              break;
            }
          } catch {
            cut++;
          }
          // As a worker does: the same batch again (ids make it idempotent), now to the instance still up.
        }
      }
    };
    const killer = (async () => {
      while (next < 40) await new Promise((r) => setTimeout(r, 5));
      procs[0]!.child.kill('SIGKILL');
      await procs[0]!.exited;
      victimAlive = false;
    })();
    await Promise.all([killer, ...[0, 1, 2, 3].map(sender)]);

    const client = new pg.Client(db.url);
    await client.connect();
    const { rows } = await client.query<{ id: string }>('select id from measurements.results');
    await client.end();
    const stored = new Set(rows.map((r) => r.id));
    assert.equal(rows.length, stored.size, 'each result stored once');
    for (const id of committed) assert.ok(stored.has(id), `result ${id} got a 2xx but is not stored`);
    assert.equal(stored.size, 120 * 200, 'every batch eventually stored');
    assert.ok(cut >= 0);
  });
});
