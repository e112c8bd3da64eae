import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { enrichAddresses } from '../../src/map/enrich/enrich-addresses.js';
import { loadRanges } from '../../src/map/enrich/load-ranges.js';
import { lookupAddresses } from '../../src/map/enrich/lookup-addresses.js';
import { installedRangeSources } from '../../src/map/enrich/range-sources.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

// What the installed DB-IP/RouteViews data says; a new package version may move a country, never these ASNs.
const WELL_KNOWN: ReadonlyArray<readonly [address: string, asn: number, org: RegExp, country: string]> = [
  ['8.8.8.8', 15169, /Google/, 'US'],
  ['1.1.1.1', 13335, /Cloudflare/, 'AU'],
  ['9.9.9.9', 19281, /Quad9/, 'US'],
  ['2001:4860:4860::8888', 15169, /Google/, 'CA'],
  ['2606:4700:4700::1111', 13335, /Cloudflare/, 'CA'],
];

/** 10,000 distinct IPv4 addresses spread over the whole space (a fixed LCG, so every run measures the same batch). */
function spreadAddresses(n: number): string[] {
  const out = new Set<string>();
  let x = 12345;
  while (out.size < n) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.add(`${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`);
  }
  return [...out];
}

describe('enrichment from the installed @ip-location-db packages', { skip }, () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let loadSeconds = 0;

  before(async () => {
    db = await createTestDatabase('enrich_real_data');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const started = performance.now();
    await loadRanges(pool);
    loadSeconds = (performance.now() - started) / 1000;
  });

  after(async () => {
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  it('loads every IPv4 and IPv6 row of both packages in one go', async (t) => {
    t.diagnostic(`full load of both packages: ${loadSeconds.toFixed(1)} s`);
    const { rows } = await pool.query(
      `select source, package, version, rows::int from enrichment_sources order by source`,
    );
    const installed = installedRangeSources();
    assert.deepEqual(
      rows.map((r) => [r.package, r.version]),
      installed.map((s) => [s.package, s.version]),
    );
    assert.ok(
      rows.every((r) => r.rows > 400_000),
      JSON.stringify(rows),
    );
    assert.equal(
      (await pool.query(`select count(*)::int as n from asn_ranges where family(first) = 6`)).rows[0].n > 50_000,
      true,
    );
  });

  for (const [address, asn, org, country] of WELL_KNOWN) {
    it(`${address} is AS${asn} in ${country}`, async () => {
      const [info] = await lookupAddresses(pool, [address]);
      assert.equal(info!.kind, 'public');
      assert.equal(info!.asn, asn);
      assert.match(info!.asOrg ?? '', org);
      assert.equal(info!.country, country);
    });
  }

  it('never gives a private, shared or documentation address an AS or a country', async () => {
    const infos = await lookupAddresses(pool, [
      '10.0.0.1',
      '100.64.0.1',
      '192.0.2.1',
      '198.18.0.1',
      'fd00::1',
      '2001:db8::1',
    ]);
    assert.deepEqual(
      infos.filter((i) => i.kind === 'public' || i.asn !== null || i.country !== null),
      [],
    );
  });

  // Timings are reported, never asserted: speed is watched in docs/enrichment.md and the bench.
  it('looks up and stores a batch of 10,000 addresses, reporting how long each took', async (t) => {
    const addresses = spreadAddresses(10_000);
    let started = performance.now();
    const infos = await lookupAddresses(pool, addresses);
    const lookupMs = performance.now() - started;
    started = performance.now();
    const stored = await enrichAddresses(pool, addresses);
    const enrichMs = performance.now() - started;
    t.diagnostic(
      `10,000 addresses: lookup ${lookupMs.toFixed(0)} ms, enrichAddresses (insert) ${enrichMs.toFixed(0)} ms`,
    );
    assert.equal(infos.length, 10_000);
    assert.equal(stored.written, 10_000);
    assert.ok(infos.filter((i) => i.asn !== null).length > 5_000, 'most of the routed IPv4 space has an AS');
  });
});
