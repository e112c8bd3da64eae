import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ackLeaseTargets } from '../../src/targets/ack-leases.js';
import { BIN_PATH } from '../../src/version.js';
import { pollUntil } from '../support/http-client.js';
import { expand, fetchBatch, writeTargetDir } from '../support/input-fixture.js';
import { workerKeys } from '../support/keys.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { freePort } from '../support/throwaway-postgres.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const LEASE_TTL_S = 2;

describe('kill -9 of an input instance mid-pass', { skip }, () => {
  let db: TestDatabase;
  let dir: string;
  let pool: pg.Pool;
  const procs: Spawned[] = [];

  async function startInstance(extra: string[] = []): Promise<string> {
    const port = await freePort();
    const proc = spawnNode(
      [BIN_PATH, 'input', '--host', '127.0.0.1', '--port', String(port), '--lease-ttl', `${LEASE_TTL_S}s`, ...extra],
      {
        DATABASE_URL: db.url,
        LOG_LEVEL: 'warn',
      },
    );
    procs.push(proc);
    const url = `http://127.0.0.1:${port}`;
    const ready = await pollUntil(`${url}/ready`, (r) => r.status === 200, 60_000);
    assert.equal(ready.status, 200, proc.output());
    return url;
  }

  before(async () => {
    db = await createTestDatabase('kill_instance');
    dir = writeTargetDir({ 'targets.txt': '20.0.0.0/23\n21.0.0.0/24\n' });
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
  });

  after(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await pool?.end();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('loses nothing: unacknowledged leases come back after the TTL, and nothing else is served twice', async (t) => {
    const victim = await startInstance(['--targets', dir]);
    const survivor = await startInstance();
    const eligible = new Set(expand('20.0.0.0/23', '21.0.0.0/24'));
    const consumers = ['k1', 'k2', 'k3'];
    const keys = await workerKeys(db.url, consumers);
    const received = new Map<string, string[]>(consumers.map((c) => [c, []]));
    let failedRequests = 0;

    // Each consumer alternates between the instances and acknowledges what it gets, as the output service would.
    const drain = (consumer: string, urls: () => string[]) =>
      (async () => {
        for (let i = 0; ; i++) {
          const list = urls();
          try {
            const batch = await fetchBatch(list[i % list.length]!, consumer, 16, keys.get(consumer));
            if (batch.targets.length === 0) return;
            received.get(consumer)!.push(...batch.targets);
            await ackLeaseTargets(
              pool,
              batch.targets.map((target) => ({ lease: batch.lease!, target })),
            );
          } catch {
            failedRequests++;
          }
        }
      })();

    // A batch whose answer never reaches its consumer (as when an instance dies after committing it).
    const lost = await fetchBatch(victim, 'k1', 16, keys.get('k1'));
    assert.equal(lost.targets.length, 16);

    let victimAlive = true;
    const urls = () => (victimAlive ? [victim, survivor] : [survivor]);
    const killer = (async () => {
      while (received.get('k1')!.length < eligible.size / 3) await sleep(5);
      procs[0]!.child.kill('SIGKILL');
      await procs[0]!.exited;
      victimAlive = false;
    })();
    await Promise.all([killer, ...consumers.map((c) => drain(c, urls))]);

    // Leases whose answers died with the victim expire and are served again to their consumer.
    await sleep(LEASE_TTL_S * 1000 + 500);
    await Promise.all(consumers.map((c) => drain(c, urls)));
    await sleep(LEASE_TTL_S * 1000 + 500);
    await Promise.all(consumers.map((c) => drain(c, urls)));

    for (const c of consumers) {
      const got = received.get(c)!;
      assert.equal(
        new Set(got).size,
        got.length,
        `${c} received an address twice (${got.length - new Set(got).size} repeats)`,
      );
      assert.deepEqual(new Set(got), eligible, `${c} received every address`);
    }
    const { rows } = await pool.query(
      `select count(*) filter (where state = 'open')::int as open, count(*) filter (where state = 'reissued')::int as reissued from leases`,
    );
    assert.equal(rows[0].open, 0, 'no lease is left unacknowledged');
    assert.ok(rows[0].reissued >= 1, 'the lost batch was served again');
    t.diagnostic(`requests cut by the kill: ${failedRequests}; leases served again: ${rows[0].reissued}`);
  });
});
