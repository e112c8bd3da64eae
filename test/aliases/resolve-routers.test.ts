import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { resolveRouters, unionRouters } from '../../src/aliases/resolve-routers.js';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { outputService } from '../../src/output/output-service.js';
import { RESULT_FORMAT, type AliasResult } from '../../src/results/result-schema.js';
import { ingestFollowUps, outputWiring } from '../../src/cli/output-wiring.js';
import { storeResults } from '../../src/results/store-results.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { postJson } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { until } from '../support/until.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const at = (ms: number) => new Date(Date.UTC(2026, 10, 30, 1, 0, 0) + ms).toISOString();

/**
 * A hand-made alias result: each [probed, answered] of `mercator` is a port unreachable from another address
 * (alias), each [a, b] of `distinct` a prespecified-timestamp test where a stamped and b did not (distinct).
 */
function aliasResult(opts: {
  mercator?: Array<[string, string]>;
  distinct?: Array<[string, string]>;
  worker?: string;
  atMs?: number;
}): AliasResult {
  const t = opts.atMs ?? 0;
  return {
    format: RESULT_FORMAT,
    id: randomUUID(),
    type: 'alias',
    worker: opts.worker ?? 'w1',
    lease: null,
    target: '198.19.9.1',
    started_at: at(t),
    finished_at: at(t + 500),
    flow: 4242,
    probes_sent: 10,
    record_route: [],
    ipid: [],
    mercator: (opts.mercator ?? []).map(([address, from]) => ({ address, from })),
    timestamps: (opts.distinct ?? []).map(([a, b]) => ({ address: a, prespecified: [a, b], stamped: [true, false] })),
  };
}

describe('router resolution from alias evidence', { skip }, () => {
  let db: TestDatabase;
  let pool: Pool;

  const routerOf = async () => {
    const { rows } = await pool.query<{ address: string; router_id: string }>(
      'select host(address) as address, host(router_id) as router_id from router_interfaces order by address',
    );
    return Object.fromEntries(rows.map((r) => [r.address, r.router_id]));
  };

  before(async () => {
    db = await createTestDatabase('resolve_routers');
    pool = createPool(db.url, quietLog);
  });

  beforeEach(async () => {
    await pool.query('truncate alias_evidence, router_interfaces, routers');
  });

  after(async () => {
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  it('folds a batch into one row per pair and method: verdict counts, first and last seen, the workers', async () => {
    await storeResults(
      pool,
      [
        aliasResult({ mercator: [['198.18.0.9', '198.18.0.2']], worker: 'w2', atMs: 0 }),
        aliasResult({ mercator: [['198.18.0.2', '198.18.0.9']], worker: 'w1', atMs: 60_000 }),
        aliasResult({ distinct: [['198.18.0.9', '198.18.0.2']], worker: 'w1', atMs: 30_000 }),
      ],
      ingestFollowUps,
    );
    const { rows } = await pool.query(
      `select host(a) as a, host(b) as b, method, alias_count::int, distinct_count::int, first_seen_at, last_seen_at, workers from alias_evidence order by method`,
    );
    assert.deepEqual(rows, [
      {
        a: '198.18.0.2',
        b: '198.18.0.9',
        method: 'mercator',
        alias_count: 2,
        distinct_count: 0,
        first_seen_at: new Date(at(500)),
        last_seen_at: new Date(at(60_500)),
        workers: ['w1', 'w2'],
      },
      {
        a: '198.18.0.2',
        b: '198.18.0.9',
        method: 'timestamp',
        alias_count: 0,
        distinct_count: 1,
        first_seen_at: new Date(at(30_500)),
        last_seen_at: new Date(at(30_500)),
        workers: ['w1'],
      },
    ]);
  });

  it('merges transitively; the router id is the smallest address; an address with no alias stays a router of its own', async () => {
    await storeResults(
      pool,
      [
        aliasResult({ mercator: [['198.18.0.10', '198.18.0.6']] }),
        aliasResult({ mercator: [['198.18.0.14', '198.18.0.10']] }),
        aliasResult({ mercator: [['198.18.1.1', '198.18.1.5']] }),
      ],
      ingestFollowUps,
    );
    const r = await resolveRouters(pool);
    assert.deepEqual(r, { routers: 2, interfaces: 5, refused: 0 });
    assert.deepEqual(
      await routerOf(),
      {
        '198.18.0.6': '198.18.0.6',
        '198.18.0.10': '198.18.0.6',
        '198.18.0.14': '198.18.0.6',
        '198.18.1.1': '198.18.1.1',
        '198.18.1.5': '198.18.1.1',
      },
      'inet order: .6 < .10 < .14, not text order',
    );
    const { rows } = await pool.query('select host(id) as id, interfaces, alias_pairs from routers order by id');
    assert.deepEqual(rows, [
      { id: '198.18.0.6', interfaces: 3, alias_pairs: 2 },
      { id: '198.18.1.1', interfaces: 2, alias_pairs: 1 },
    ]);
  });

  it('refuses a merge that would join two addresses a timestamp test found distinct, keeping the better supported merges', async () => {
    // A-B and C-D seen twice, B-C once: with A and D distinct, the chain A-B-C-D must break, and at B-C.
    const [A, B, C, D] = ['198.18.2.1', '198.18.2.2', '198.18.2.3', '198.18.2.4'];
    await storeResults(
      pool,
      [
        aliasResult({
          mercator: [
            [A, B],
            [C, D],
          ],
        }),
        aliasResult({
          mercator: [
            [B, A],
            [D, C],
          ],
          worker: 'w2',
        }),
        aliasResult({ mercator: [[B, C]], distinct: [[A, D]] }),
      ],
      ingestFollowUps,
    );
    assert.deepEqual(await resolveRouters(pool), { routers: 2, interfaces: 4, refused: 1 });
    assert.deepEqual(await routerOf(), { [A]: A, [B]: A, [C]: C, [D]: C });

    // Without the distinct verdict the four are one router.
    await pool.query(`delete from alias_evidence where method = 'timestamp'`);
    assert.deepEqual(await resolveRouters(pool), { routers: 1, interfaces: 4, refused: 0 });
    assert.deepEqual(await routerOf(), { [A]: A, [B]: A, [C]: A, [D]: A });
    assert.deepEqual(
      (await pool.query('select host(id) as id from routers')).rows,
      [{ id: A }],
      'the router C..D was dropped',
    );
  });

  it('a pair with both verdicts: the timestamp majority decides, and a distinct pair is never merged directly', async () => {
    const [A, B] = ['198.18.3.1', '198.18.3.2'];
    await storeResults(pool, [aliasResult({ mercator: [[A, B]], distinct: [[A, B]] })], ingestFollowUps);
    assert.deepEqual(await resolveRouters(pool), { routers: 0, interfaces: 0, refused: 1 });
    assert.deepEqual(
      unionRouters([{ a: A, b: B, supports: true, blocked: false }]).groups.map((g) => ({
        ...g,
        members: g.members.sort(),
      })),
      [{ members: [A, B], pairs: 1 }],
      'the alias alone would merge them',
    );
  });

  it('recomputes stably: the same evidence writes nothing; a new interface keeps the router id; a re-posted result adds nothing', async () => {
    const first = aliasResult({ mercator: [['198.18.4.2', '198.18.4.5']] });
    await storeResults(pool, [first], ingestFollowUps);
    await resolveRouters(pool);
    const before = (
      await pool.query('select host(address) as address, xmin::text from router_interfaces order by address')
    ).rows;
    const routersBefore = (await pool.query('select host(id) as id, xmin::text, resolved_at from routers')).rows;
    await resolveRouters(pool);
    assert.deepEqual(
      (await pool.query('select host(address) as address, xmin::text from router_interfaces order by address')).rows,
      before,
      'no row rewritten',
    );
    assert.deepEqual(
      (await pool.query('select host(id) as id, xmin::text, resolved_at from routers')).rows,
      routersBefore,
    );

    const again = await storeResults(pool, [first], ingestFollowUps);
    assert.equal(again.duplicate, 1);
    assert.deepEqual(
      (await pool.query('select alias_count::int from alias_evidence')).rows,
      [{ alias_count: 1 }],
      'the re-post counted once',
    );

    await storeResults(pool, [aliasResult({ mercator: [['198.18.4.9', '198.18.4.5']] })], ingestFollowUps);
    await resolveRouters(pool);
    assert.deepEqual(await routerOf(), {
      '198.18.4.2': '198.18.4.2',
      '198.18.4.5': '198.18.4.2',
      '198.18.4.9': '198.18.4.2',
    });
    const [row] = (await pool.query('select xmin::text from router_interfaces where address = $1', ['198.18.4.2']))
      .rows;
    assert.equal(row.xmin, before[0].xmin, 'an interface whose router did not change is not rewritten');
  });

  it('readers see the old resolution or the new one, never a mix', async () => {
    const pairs: Array<[string, string]> = Array.from({ length: 200 }, (_, i) => [
      `198.18.5.${i + 1}`,
      `198.18.6.${i + 1}`,
    ]);
    await storeResults(pool, [aliasResult({ mercator: pairs })], ingestFollowUps);
    await resolveRouters(pool);
    // Join them all into one router through a chain; a reader polling meanwhile sees 200 routers or 1.
    await storeResults(
      pool,
      [aliasResult({ mercator: pairs.slice(1).map(([, b], i) => [pairs[i]![0], b]) })],
      ingestFollowUps,
    );
    const seen = new Set<string>();
    let done = false;
    const reader = (async () => {
      while (!done)
        seen.add(
          (
            await pool.query<{ n: string; i: string }>(
              'select count(distinct router_id)::text as n, count(*)::text as i from router_interfaces',
            )
          ).rows.map((r) => `${r.n}/${r.i}`)[0]!,
        );
    })();
    await resolveRouters(pool);
    done = true;
    await reader;
    assert.deepEqual(
      [...seen].filter((s) => s !== '200/400' && s !== '1/400'),
      [],
    );
    assert.deepEqual(await resolveRouters(pool), { routers: 1, interfaces: 400, refused: 0 });
  });

  it('the output service resolves routers as its resolve_routers job, from results posted to it', async () => {
    const output: RunningService = await startService(outputService({ ...outputWiring, auth: 'off' }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      healthPort: 0,
      log: quietLog,
    });
    try {
      assert.equal(
        (await postJson(`${output.url}/results`, aliasResult({ mercator: [['198.18.7.2', '198.18.7.1']] }))).status,
        200,
      );
      await pool.query(`select graphile_worker.add_job('resolve_routers')`);
      const routers = await until(
        'the job to resolve',
        async () => {
          const { rows } = await pool.query(
            'select host(address) as address, host(router_id) as router_id from router_interfaces order by address',
          );
          return rows.length ? rows : undefined;
        },
        { timeoutMs: 30_000 },
      );
      assert.deepEqual(routers, [
        { address: '198.18.7.1', router_id: '198.18.7.1' },
        { address: '198.18.7.2', router_id: '198.18.7.1' },
      ]);
    } finally {
      await output.stop();
    }
  });
});
