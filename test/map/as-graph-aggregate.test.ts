import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { asGraph } from '../../src/map/graph/as-graph.js';
import { rebuildAsLinksIfStale } from '../../src/map/graph/rebuild-as-links-task.js';
import type { Result } from '../../src/results/result-schema.js';
import { ingestFollowUps } from '../../src/cli/output-wiring.js';
import { storeResults } from '../../src/results/store-results.js';
import { assertNoLeaks } from '../support/leaks.js';
import { traceResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

/** A fixed pseudo-random sequence (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const router = (i: number) => `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;
const EPOCH = '1970-01-01T00:00:00Z';

describe('as_links: the AS graph kept by triggers equals the direct aggregation', { skip }, () => {
  let db: TestDatabase;
  let pool: Pool;
  const rnd = random(8);

  /** `n` traceroutes over routers 0..`routers`-1 to targets in 198.19.0.0/16, spread over an hour. */
  function traces(n: number, routers: number): Result[] {
    return Array.from({ length: n }, () => {
      const path: string[] = [];
      const hops = 3 + Math.floor(rnd() * 8);
      while (path.length < hops) {
        const a = router(Math.floor(rnd() * routers));
        if (a !== path.at(-1)) path.push(a);
      }
      const target = `198.19.${Math.floor(rnd() * 4)}.${1 + Math.floor(rnd() * 50)}`;
      return traceResult(target, [...path, target], {
        worker: `w${Math.floor(rnd() * 3)}`,
        atMs: Math.floor(rnd() * 3_600_000),
      });
    });
  }

  /** address_info rows for routers from..to-1: ASes 64500-64507, every 10th private, every 13th unannounced. */
  async function enrich(from: number, to: number, opts: { unannounced?: boolean } = {}): Promise<void> {
    const rows = Array.from({ length: to - from }, (_, k) => {
      const i = from + k;
      if (i % 10 === 0) return [router(i), 'private', null, null];
      if (i % 13 === 0 && opts.unannounced !== false) return [router(i), 'public', null, null];
      const asn = 64500 + (i % 8);
      return [router(i), 'public', asn, `Org ${asn}`];
    });
    // Shaped like enrichAddresses: one insert … on conflict do update, so both statement triggers fire.
    await pool.query(
      `insert into address_info (address, kind, asn, as_org, data_version, source, updated_at)
       select a, k, n, o, 't', case when n is null then null else 'ip-location-db' end, now()
         from unnest($1::inet[], $2::text[], $3::bigint[], $4::text[]) as u(a, k, n, o)
       on conflict (address) do update set kind = excluded.kind, asn = excluded.asn, as_org = excluded.as_org, source = excluded.source`,
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3])],
    );
  }

  const stale = async () => (await pool.query<{ stale: boolean }>('select stale from as_links_state')).rows[0]!.stale;
  // Sums of doubles added in another order differ in the last bits.
  const rounded = (g: Awaited<ReturnType<typeof asGraph>>) => ({
    nodes: g.nodes.map((n) => ({
      ...n,
      internal_delta_mean_us: n.internal_delta_mean_us === null ? null : Math.round(n.internal_delta_mean_us * 1000),
    })),
    links: g.links.map((l) => ({
      ...l,
      delta_mean_us: l.delta_mean_us === null ? null : Math.round(l.delta_mean_us * 1000),
    })),
  });

  /** as_links is fresh and answers exactly what aggregating every link answers (a `since` forces the latter). */
  async function assertKeptEqualsDirect(what: string, asn?: number): Promise<Awaited<ReturnType<typeof asGraph>>> {
    assert.equal(await stale(), false, `${what}: as_links is fresh`);
    const kept = await asGraph(pool, { asn });
    const direct = await asGraph(pool, { asn, since: EPOCH });
    assert.deepEqual(rounded(kept), rounded(direct), what);
    if (asn !== undefined) return kept;
    const { rows } = await pool.query<{ pairs: number }>('select count(*)::int as pairs from as_links where links > 0');
    assert.equal(
      rows[0]!.pairs,
      direct.links.length + direct.nodes.filter((n) => n.internal_links > 0).length,
      `${what}: the table holds what is read`,
    );
    return kept;
  }

  before(async () => {
    db = await createTestDatabase('as_graph_aggregate');
    pool = createPool(db.url, quietLog, { max: 6 });
  });

  after(async () => {
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  it('counts links whose ends are enriched after they were stored', async () => {
    assert.equal(await stale(), false, 'a fresh database starts with a built as_links');
    await storeResults(pool, traces(300, 200), ingestFollowUps);
    assert.equal((await asGraph(pool, {})).links.length, 0, 'no AS known yet');
    await enrich(0, 120);
    await enrich(120, 200);
    const g = await assertKeptEqualsDirect('after enrichment');
    assert.ok(g.links.length > 20 && g.nodes.every((n) => n.as_org === `Org ${n.asn}`), 'a real AS graph');
  });

  it('adds links stored after enrichment, new ones and ones seen again, and those to addresses not enriched yet', async () => {
    await storeResults(pool, traces(300, 200), ingestFollowUps);
    await storeResults(pool, traces(200, 260), ingestFollowUps); // routers 200-259 have no address_info yet
    await assertKeptEqualsDirect('after more ingest');
    await enrich(200, 260);
    await assertKeptEqualsDirect('after enriching the new routers');
  });

  it('adds an address that gains an AS on re-enrichment, and ignores rows that do not change', async () => {
    const before = await asGraph(pool, {});
    await enrich(0, 260); // nothing changes
    assert.deepEqual(rounded(await asGraph(pool, {})), rounded(before));
    await enrich(0, 260, { unannounced: false }); // every 13th router gains its AS
    const after = await assertKeptEqualsDirect('after unannounced addresses were announced');
    assert.ok(
      after.links.reduce((s, l) => s + l.links, 0) > before.links.reduce((s, l) => s + l.links, 0),
      'more links counted',
    );
  });

  it('answers an asn filter from as_links the same as from links', async () => {
    for (const asn of [64500, 64503, 64599]) await assertKeptEqualsDirect(`asn=${asn}`, asn);
  });

  it('marks itself stale when an address leaves its AS or a row is deleted, answers exactly meanwhile, and the rebuild job makes it fresh', async () => {
    await pool.query(`update address_info set asn = 64600, as_org = 'Moved' where address = $1`, [router(1)]);
    assert.equal(await stale(), true, 'an AS change cannot be added up');
    const moved = await asGraph(pool, {});
    assert.ok(
      moved.nodes.some((n) => n.asn === 64600),
      'the stale table is not read: the answer has the new AS',
    );
    assert.equal(await rebuildAsLinksIfStale(pool), true);
    await assertKeptEqualsDirect('after the rebuild');
    assert.equal(await rebuildAsLinksIfStale(pool), false, 'a fresh table is not rebuilt');

    await pool.query(`delete from address_info where address = $1`, [router(2)]);
    assert.equal(await stale(), true, 'a delete cannot be added up');
    await rebuildAsLinksIfStale(pool);
    await assertKeptEqualsDirect('after a delete and a rebuild');
    await pool.query(`delete from address_info where address = $1`, [router(10)]); // private: no AS to take away
    assert.equal(await stale(), false, 'deleting an address without AS changes nothing');
  });

  it('stays exact with ingest and enrichment running at once', async () => {
    const batches = [traces(250, 400), traces(250, 400), traces(250, 400), traces(250, 400)];
    const outcomes = await Promise.all([
      ...batches.map((b) => storeResults(pool, b, ingestFollowUps)),
      enrich(260, 330),
      enrich(330, 400),
    ]);
    assert.equal(outcomes.length, 6);
    await assertKeptEqualsDirect('after concurrent ingest and enrichment');
  });
});
