import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { inputService } from '../../src/input/input-service.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { ackLeaseTargets } from '../../src/targets/ack-leases.js';
import { reissueExpiredLeases } from '../../src/targets/reissue-expired-leases.js';
import { request } from '../support/http-client.js';
import { expand, interleavingViolations, writeTargetDir } from '../support/input-fixture.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const POOL = expand('20.0.0.0/25', '21.0.0.0/26', '22.0.0.0/29');
const MAX_REISSUES = 3;
const LEASE_TTL_MS = 400;

interface Batch {
  lease: string | null;
  expires_at: string | null;
  targets: string[];
  pass: number;
  retry_after_seconds?: number;
}

async function fetchBatch(baseUrl: string, consumer: string, n: number): Promise<Batch> {
  const res = await request(`${baseUrl}/targets?n=${n}`, { headers: { 'x-consumer-id': consumer } });
  if (res.status !== 200) throw new Error(`GET /targets: ${res.status} ${res.text}`);
  return res.json();
}

const counts = (items: string[]): Map<string, number> => {
  const out = new Map<string, number>();
  for (const item of items) out.set(item, (out.get(item) ?? 0) + 1);
  return out;
};

describe('a consumer that never acknowledges', { skip }, () => {
  let db: TestDatabase;
  let dir: string;
  let svc: RunningService;
  let pool: pg.Pool;

  before(async () => {
    assert.equal(POOL.length, 200);
    db = await createTestDatabase('never_acking');
    dir = writeTargetDir({ 'targets.txt': '20.0.0.0/25\n21.0.0.0/26\n22.0.0.0/29\n' });
    // The default --max-reissues (3) is what is under test: no maxReissues given.
    svc = await startService(
      inputService({
        auth: 'off',
        ipv6: false,
        allow: [],
        targets: dir,
        leaseTtlMs: LEASE_TTL_MS,
        passCooldownMs: 3_600_000,
        maxBatch: 1000,
      }),
      { databaseUrl: db.url, host: '127.0.0.1', port: 0, log: quietLog },
    );
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });

  after(async () => {
    await pool?.end();
    await svc?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('serves each target at most 1 + max-reissues times, sets it aside, and ends the pass; an acknowledging consumer alongside is unaffected', async () => {
    const silent: string[] = [];
    const diligent: string[] = [];
    let silentLast: Batch | undefined;

    // Never acknowledges; comes back whenever the pass says nothing is left, until nothing is left even
    // after every lease it holds has expired. Without the limit this never ends (the deadline fails it).
    const neverAcks = async () => {
      let lastExpiry = 0;
      const deadline = Date.now() + 20_000;
      for (;;) {
        assert.ok(
          Date.now() < deadline,
          `the pass never ended: ${silent.length} served, ${new Set(silent).size} distinct`,
        );
        const batch = await fetchBatch(svc.url, 'silent', 50);
        if (batch.targets.length > 0) {
          silent.push(...batch.targets);
          lastExpiry = Math.max(lastExpiry, Date.parse(batch.expires_at!));
          continue;
        }
        assert.ok(batch.retry_after_seconds! > 0, 'an empty batch says when to come back');
        silentLast = batch;
        if (Date.now() > lastExpiry + 50) return;
        await sleep(Math.max(20, lastExpiry + 60 - Date.now()));
      }
    };
    // Acknowledges every batch at once, as the output service does when the results are stored.
    const acks = async () => {
      for (;;) {
        const batch = await fetchBatch(svc.url, 'diligent', 50);
        if (batch.targets.length === 0) return;
        diligent.push(...batch.targets);
        await ackLeaseTargets(
          pool,
          batch.targets.map((target) => ({ lease: batch.lease!, target })),
        );
        await sleep(50);
      }
    };
    await Promise.all([neverAcks(), acks()]);

    const served = counts(silent);
    assert.equal(served.size, POOL.length, 'every target of the pool was served to the silent consumer');
    const overServed = [...served].filter(([, n]) => n > 1 + MAX_REISSUES);
    assert.deepEqual(overServed, [], `served more than ${1 + MAX_REISSUES} times`);
    // Each was served once new and re-issued exactly MAX_REISSUES times before being set aside.
    assert.deepEqual(new Set(served.values()), new Set([1 + MAX_REISSUES]));
    assert.equal(silent.length, POOL.length * (1 + MAX_REISSUES));
    // In its hour-long cooldown, told to come back within the minute that bounds how late a new hop can be.
    assert.equal(silentLast!.retry_after_seconds, 60);
    const { rows } = await pool.query<{ s: number }>(
      `select extract(epoch from cooldown_until - now())::float8 as s from consumers where id = 'silent'`,
    );
    assert.ok(rows[0]!.s > 3_000, `the silent consumer is in its cooldown (${rows[0]!.s} s)`);

    assert.equal(diligent.length, POOL.length, 'the acknowledging consumer got every target once');
    assert.deepEqual(new Set(diligent), new Set(POOL));

    const status = (await request(`${svc.url}/status`)).json<{
      consumers: Array<{ id: string; state: string; set_aside_in_pass: number; pass: number }>;
      leases: { open: number; expired_unacked: number; set_aside_in_pass: number };
    }>();
    const byId = new Map(status.consumers.map((c) => [c.id, c]));
    assert.equal(byId.get('silent')!.set_aside_in_pass, POOL.length);
    assert.equal(byId.get('silent')!.state, 'cooldown');
    assert.equal(byId.get('diligent')!.set_aside_in_pass, 0);
    assert.equal(byId.get('diligent')!.state, 'cooldown');
    assert.equal(status.leases.set_aside_in_pass, POOL.length);
    assert.equal(status.leases.open, 0);
    assert.equal(status.leases.expired_unacked, 0, 'no lease is left waiting to be re-served');

    const metrics = (await request(`${svc.url}/metrics`)).text;
    assert.match(metrics, new RegExp(`^hopmap_targets_set_aside_total\\{[^}]*\\} ${POOL.length}$`, 'm'));
    assert.match(metrics, new RegExp(`^hopmap_targets_reissued_total\\{[^}]*\\} ${POOL.length * MAX_REISSUES}$`, 'm'));

    // The diligent consumer's order still follows the /24 rule, and re-issue counts ride on the silent one's leases.
    const { rows: order } = await pool.query<{ targets: string[] }>(
      `select array(select host(t) from unnest(targets) t) as targets from leases where consumer_id = 'diligent' order by issued_at`,
    );
    assert.deepEqual(interleavingViolations(order.flatMap((r) => r.targets)), []);
    const { rows: states } = await pool.query<{ state: string; n: number; max_reissues: number | null }>(
      `select state, count(*)::int as n, max((select max(r) from unnest(reissues) r))::int as max_reissues
         from leases where consumer_id = 'silent' group by state order by state`,
    );
    assert.deepEqual(
      states.map((s) => s.state),
      ['reissued', 'set_aside'],
    );
    assert.equal(states.find((s) => s.state === 'set_aside')!.max_reissues, MAX_REISSUES);
  });

  it('gives the set-aside targets back in the next pass', async () => {
    await pool.query(`update consumers set cooldown_until = now() - interval '1 second' where id = 'silent'`);
    const next = await fetchBatch(svc.url, 'silent', 1000);
    assert.equal(next.pass, 2);
    assert.deepEqual(new Set(next.targets), new Set(POOL));
    const status = (await request(`${svc.url}/status`)).json<{
      consumers: Array<{ id: string; set_aside_in_pass: number }>;
    }>();
    assert.equal(status.consumers.find((c) => c.id === 'silent')!.set_aside_in_pass, 0);
  });
});

describe('counting re-issues', { skip }, () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  before(async () => {
    db = await createTestDatabase('reissue_counts');
    pool = new pg.Pool({ connectionString: db.url, max: 1 });
  });

  after(async () => {
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  /** Expired leases as given, then one reissueExpiredLeases call; rolled back, so each case starts clean. */
  async function reissue(
    leases: Array<{ targets: string[]; acked?: string[]; reissues?: number[] | null }>,
    room: number,
    maxReissues: number,
  ): Promise<{ result: Awaited<ReturnType<typeof reissueExpiredLeases>>; states: string[]; setAside: string[] }> {
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query(`insert into consumers (id, ring_start, hops_served) values ('u', 0, '{}')`);
      for (const [i, l] of leases.entries()) {
        await client.query(
          `insert into leases (consumer_id, pass, targets, acked, expires_at, reissues)
           values ('u', 1, $1::inet[], $2::inet[], now() - make_interval(secs => $3), $4::smallint[])`,
          [l.targets, l.acked ?? [], 100 - i, l.reissues ?? null],
        );
      }
      const result = await reissueExpiredLeases(client, 'u', room, maxReissues);
      const states = await client.query<{ state: string }>(`select state from leases order by expires_at`);
      const aside = await client.query<{ a: string }>(
        `select host(address) as a from set_aside_targets where consumer_id = 'u' and pass = 1 order by address`,
      );
      await client.query('rollback');
      return { result, states: states.rows.map((r) => r.state), setAside: aside.rows.map((r) => r.a) };
    } finally {
      client.release();
    }
  }

  const CASES: Array<{
    name: string;
    leases: Array<{ targets: string[]; acked?: string[]; reissues?: number[] | null }>;
    room: number;
    max: number;
    want: { targets: string[]; reissues: number[]; setAside: string[]; states: string[] };
  }> = [
    {
      name: 'a new lease (no counts) is re-issued once',
      leases: [{ targets: ['20.0.0.1', '20.0.0.2'] }],
      room: 10,
      max: 3,
      want: { targets: ['20.0.0.1', '20.0.0.2'], reissues: [1, 1], setAside: [], states: ['reissued'] },
    },
    {
      name: 'counts are per target: acknowledged skipped, at the limit set aside, below it counted up',
      leases: [{ targets: ['20.0.0.1', '20.0.0.2', '20.0.0.3'], acked: ['20.0.0.2'], reissues: [2, 0, 3] }],
      room: 10,
      max: 3,
      want: { targets: ['20.0.0.1'], reissues: [3], setAside: ['20.0.0.3'], states: ['reissued'] },
    },
    {
      name: 'a lease with nothing left to serve but set-aside targets is closed as set_aside',
      leases: [
        { targets: ['20.0.0.1', '20.0.0.2'], acked: ['20.0.0.1'], reissues: [3, 3] },
        { targets: ['21.0.0.1'], acked: ['21.0.0.1'] },
      ],
      room: 10,
      max: 3,
      want: { targets: [], reissues: [], setAside: ['20.0.0.2'], states: ['set_aside', 'done'] },
    },
    {
      name: '--max-reissues 0 never serves a target again',
      leases: [{ targets: ['20.0.0.1', '20.0.0.2'] }],
      room: 10,
      max: 0,
      want: { targets: [], reissues: [], setAside: ['20.0.0.1', '20.0.0.2'], states: ['set_aside'] },
    },
    {
      name: 'a lease left for the next batch (no room) sets nothing aside yet',
      leases: [{ targets: ['20.0.0.1', '20.0.0.2'] }, { targets: ['21.0.0.1', '21.0.0.2'], reissues: [0, 3] }],
      room: 2,
      max: 3,
      want: { targets: ['20.0.0.1', '20.0.0.2'], reissues: [1, 1], setAside: [], states: ['reissued', 'open'] },
    },
    {
      name: 'a lease that only sets targets aside is taken even with no room left',
      leases: [
        { targets: ['20.0.0.1', '20.0.0.2'], reissues: [1, 1] },
        { targets: ['21.0.0.1'], reissues: [3] },
      ],
      room: 2,
      max: 3,
      want: {
        targets: ['20.0.0.1', '20.0.0.2'],
        reissues: [2, 2],
        setAside: ['21.0.0.1'],
        states: ['reissued', 'set_aside'],
      },
    },
  ];

  for (const c of CASES) {
    it(c.name, async () => {
      const { result, states, setAside } = await reissue(c.leases, c.room, c.max);
      assert.deepEqual(result.targets, c.want.targets);
      assert.deepEqual(result.reissues, c.want.reissues);
      assert.equal(result.setAside, c.want.setAside.length);
      assert.deepEqual(setAside, c.want.setAside);
      assert.deepEqual(states, c.want.states);
    });
  }
});
