import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { postJson, request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { pingResult, traceResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const TOTAL = Number(process.env.HOPMAP_TEST_INGEST_TOTAL ?? 200_000);

describe('hopmap output: ingesting results', { skip }, () => {
  let db: TestDatabase;
  let a: RunningService;
  let b: RunningService;
  let client: pg.Client;

  before(async () => {
    db = await createTestDatabase('ingest_results');
    const start = () =>
      startService(outputService({ ...outputWiring, auth: 'off' }), {
        databaseUrl: db.url,
        host: '127.0.0.1',
        port: 0,
        healthPort: 0,
        log: quietLog,
      });
    [a, b] = await Promise.all([start(), start()]);
    client = new pg.Client(db.url);
    await client.connect();
  });

  after(async () => {
    await client?.end();
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
    await assertNoLeaks();
  });

  it(`two instances, 4 senders, ${TOTAL} results with 10% repeated ids and 1% malformed: exactly the valid distinct ones stored`, async () => {
    // Distinct valid results (a tenth are traceroutes), then repeats of some of them, then malformed items.
    const valid = Array.from({ length: Math.round(TOTAL * 0.89) }, (_, i) =>
      i % 10 === 0
        ? traceResult(`20.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, [
            '198.51.100.1',
            `30.0.${(i >> 8) & 255}.1`,
            null,
            `20.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
          ])
        : pingResult(`20.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`),
    );
    const repeats = valid.slice(0, Math.round(TOTAL * 0.1));
    const malformed = Array.from({ length: TOTAL - valid.length - repeats.length }, (_, i) => {
      const r = pingResult('20.0.0.1') as Record<string, unknown>;
      if (i % 3 === 0) r.id = `not-a-uuid-${i}`;
      else if (i % 3 === 1) r.rtts_us = ['fast'];
      else r.colour = 'red';
      return r;
    });
    const items: unknown[] = [...valid, ...repeats, ...malformed].sort(() => Math.random() - 0.5);

    const batches: unknown[][] = [];
    for (let i = 0; i < items.length; i += 500) batches.push(items.slice(i, i + 500));
    let next = 0;
    const totals = { accepted: 0, duplicate: 0, rejected: 0, statuses: new Map<number, number>() };
    const sender = async (s: number) => {
      while (next < batches.length) {
        const n = next++;
        const batch = batches[n]!;
        const url = `${(n + s) % 2 ? a.url : b.url}/results`;
        // Half the batches as gzipped NDJSON, half as a JSON array.
        const res =
          n % 2
            ? await request(url, {
                method: 'POST',
                body: gzipSync(batch.map((x) => JSON.stringify(x)).join('\n')),
                headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
              })
            : await postJson(url, batch);
        totals.statuses.set(res.status, (totals.statuses.get(res.status) ?? 0) + 1);
        const body = res.json();
        totals.accepted += body.accepted;
        totals.duplicate += body.duplicate;
        totals.rejected += body.rejected;
        if (body.rejected > 0) {
          assert.equal(res.status, 400);
          assert.equal(body.error.code, 'invalid_results');
          for (const e of body.errors) assert.ok(typeof e.index === 'number' && e.field, JSON.stringify(e));
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(sender));

    assert.deepEqual(
      [...totals.statuses.keys()].filter((s) => s >= 500),
      [],
      'no 5xx',
    );
    assert.equal(totals.rejected, malformed.length, 'every malformed item reported');
    assert.equal(totals.accepted, valid.length);
    assert.equal(totals.duplicate, repeats.length);
    const { rows } = await client.query(
      `select count(*)::int as n, count(distinct id)::int as d from measurements.results`,
    );
    assert.deepEqual(rows[0], { n: valid.length, d: valid.length });
  });

  it('names the index and field of each bad item, stores the good ones, and says duplicates once more', async () => {
    const good = pingResult('20.9.9.9');
    const res = await postJson(`${a.url}/results`, [good, { ...good, id: 'nope' }, { format: 'hopmap-result/2' }]);
    assert.equal(res.status, 400);
    const body = res.json();
    assert.equal(body.accepted, 1);
    assert.equal(body.rejected, 2);
    assert.ok(body.errors.some((e: { index: number; field: string }) => e.index === 1 && e.field === 'id'));
    assert.ok(body.errors.some((e: { index: number }) => e.index === 2));
    const again = await postJson(`${b.url}/results`, good);
    assert.deepEqual(again.json(), { accepted: 0, duplicate: 1, rejected: 0, new_hops: 0, links: 0, route_changes: 0 });
  });

  it('extracts links between consecutive answering hops, never across a silent one, and feeds hops back as targets', async () => {
    const trace = traceResult('20.7.7.7', ['198.51.100.7', '31.7.0.1', null, '31.7.0.3', '20.7.7.7']);
    const res = await postJson(`${a.url}/results`, trace);
    assert.equal(res.status, 200, res.text);
    const { rows } = await client.query(
      `select host(near) as near, host(far) as far, count::int from links where near in ('198.51.100.7', '31.7.0.1', '31.7.0.3') order by 1`,
    );
    assert.deepEqual(rows, [
      { near: '198.51.100.7', far: '31.7.0.1', count: 1 },
      { near: '31.7.0.3', far: '20.7.7.7', count: 1 },
    ]);
    const hops = await client.query(
      `select host(address) as a from hops where address in ('31.7.0.1', '31.7.0.3', '20.7.7.7') order by 1`,
    );
    assert.deepEqual(
      hops.rows.map((r) => r.a),
      ['31.7.0.1', '31.7.0.3'],
      'intermediate hops join the pool, the destination does not',
    );
    const recent = (await request(`${b.url}/recent?ip=20.7.7.7&limit=5`)).json();
    assert.equal(recent.results[0].id, trace.id);
    // The separate health port answers the operations routes, /stats and /recent, and nothing else.
    const info = (await request(`${a.healthUrl}/service-info`)).json();
    assert.equal(info.service_type, 'output');
    const stats = (await request(`${a.healthUrl}/stats`)).json();
    assert.ok(stats.known.links >= 2 && stats.partitions.length >= 1, JSON.stringify(stats));
    assert.equal((await request(`${a.healthUrl}/recent?ip=20.7.7.7`)).json().results[0].id, trace.id);
    assert.equal(
      (
        await request(`${a.healthUrl}/results`, {
          method: 'POST',
          body: '[]',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
      404,
    );
  });

  it('stores an error result (a measurement no probe of left) as a measurement, with no hop, link or route', async () => {
    const error = {
      ...pingResult('2001:db8:77::1'),
      type: 'error',
      measurement: 'ping',
      method: 'tcp',
      reason: 'no route to 2001:db8:77::1: ENETUNREACH (no source address)',
    } as Record<string, unknown>;
    for (const field of ['sent', 'received', 'rtts_us', 'reply_ttl']) delete error[field];
    const res = await postJson(`${a.url}/results`, [error]);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().accepted, 1);
    const { rows } = await client.query<{ type: string; reason: string }>(
      `select type, body->>'reason' as reason from measurements.results where id = $1`,
      [error.id],
    );
    assert.deepEqual(rows, [{ type: 'error', reason: error.reason }]);
    const traces = await client.query(`select 1 from route_current where host(target) = '2001:db8:77::1'`);
    assert.equal(traces.rowCount, 0);
  });

  it('refuses an unsupported content type and a corrupt gzip body clearly', async () => {
    const text = await request(`${a.url}/results`, {
      method: 'POST',
      body: 'x',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(text.status, 415);
    const bad = await request(`${a.url}/results`, {
      method: 'POST',
      body: Buffer.from('not gzip'),
      headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json().error.code, 'invalid_encoding');
  });
});
