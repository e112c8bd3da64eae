import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { postJson, request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { pingResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const dayName = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);

describe('rotating result partitions', { skip }, () => {
  let db: TestDatabase;
  let client: pg.Client;
  let archiveDir: string;
  let a: RunningService;
  let b: RunningService;

  before(async () => {
    db = await createTestDatabase('rotate_results');
    client = new pg.Client(db.url);
    await client.connect();
    archiveDir = mkdtempSync(join(tmpdir(), 'hopmap-archive-'));
    // Six past days of results, 1,000 a day, as if ingested then (a day then outweighs what the test ingests meanwhile).
    for (let ago = 6; ago >= 1; ago--) {
      const day = dayName(ago);
      await client.query(
        `create table measurements.results_${day.replaceAll('-', '')} partition of measurements.results for values from ('${day} 00:00+00') to ('${dayName(ago - 1)} 00:00+00')`,
      );
      const rows = Array.from({ length: 1_000 }, (_, i) => pingResult(`20.${ago}.${i >> 8}.${i & 255}`));
      await client.query(
        `insert into measurements.results (id, received_at, measured_at, type, worker, target, lease, body)
         select (r->>'id')::uuid, $2::timestamptz, $2::timestamptz, 'ping', 'w1', (r->>'target')::inet, null, r from jsonb_array_elements($1::jsonb) r`,
        [JSON.stringify(rows), `${day} 12:00+00`],
      );
    }
  });

  after(async () => {
    await client?.end();
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
    rmSync(archiveDir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  const partitions = async () =>
    (
      await client.query<{ name: string; bytes: string }>(
        `select c.relname as name, pg_total_relation_size(c.oid) as bytes from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'measurements.results'::regclass and c.relname ~ '^results_[0-9]{8}$' order by 1`,
      )
    ).rows;

  it('with a small max size, retires the oldest days first (archived), once, while ingest goes on', async () => {
    const before = await partitions();
    const oldest = before.slice(0, 4).map((p) => p.name);
    const keptBytes = before.slice(4).reduce((n, p) => n + Number(p.bytes), 0);
    // Room for what is kept plus half a day of margin, so the little ingested meanwhile retires nothing more.
    const maxSizeMb = (keptBytes + Number(before[3]!.bytes) / 2) / 1024 / 1024;
    const opts = { databaseUrl: db.url, host: '127.0.0.1', port: 0, log: quietLog };
    [a, b] = [
      await startService(outputService({ ...outputWiring, auth: 'off', rotation: { maxSizeMb, archiveDir } }), opts),
      await startService(outputService({ ...outputWiring, auth: 'off', rotation: { maxSizeMb, archiveDir } }), opts),
    ];

    let ingesting = true;
    const statuses: number[] = [];
    const sender = (async () => {
      for (let n = 0; ingesting && n < 20; n++)
        statuses.push(
          (
            await postJson(
              `${a.url}/results`,
              Array.from({ length: 5 }, (_, i) => pingResult(`21.0.0.${i}`)),
            )
          ).status,
        );
    })();
    const [ra, rb] = await Promise.all([
      request(`${a.url}/rotate`, { method: 'POST' }),
      request(`${b.url}/rotate`, { method: 'POST' }),
    ]);
    ingesting = false;
    await sender;

    const outcomes = [ra.json(), rb.json()];
    const retired = outcomes.flatMap((o) => o.retired.map((r: { partition: string }) => r.partition));
    assert.deepEqual([...retired].sort(), oldest, 'the four oldest days, each retired once');
    assert.ok(outcomes.filter((o) => o.ran && o.retired.length > 0).length === 1, 'one instance did the work');
    assert.ok(statuses.length > 0 && statuses.every((s) => s === 200), `ingest went on: ${statuses.join(',')}`);

    const after = (await partitions()).map((p) => p.name);
    for (const name of oldest) assert.ok(!after.includes(name), `${name} still attached`);
    for (const p of before.slice(4)) assert.ok(after.includes(p.name), `${p.name} should be kept`);
    for (const name of oldest)
      assert.equal(
        readFileSync(join(archiveDir, `${name}.ndjson`), 'utf8')
          .split('\n')
          .filter(Boolean).length,
        1_000,
        `${name} archived whole`,
      );
  });

  it('deletes nothing when no limit is configured', async () => {
    const svc = await startService(outputService({ ...outputWiring, auth: 'off' }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    try {
      const before = (await partitions()).map((p) => p.name);
      const out = (await request(`${svc.url}/rotate`, { method: 'POST' })).json();
      assert.equal(out.ran, true);
      assert.deepEqual(out.retired, []);
      assert.deepEqual(
        (await partitions()).map((p) => p.name),
        before,
      );
    } finally {
      await svc.stop();
    }
  });
});
