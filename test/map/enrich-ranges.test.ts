import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { currentDataVersion } from '../../src/map/enrich/data-version.js';
import { enrichAddresses } from '../../src/map/enrich/enrich-addresses.js';
import { enrichPendingHops } from '../../src/map/enrich/enrich-hops-task.js';
import { loadRanges } from '../../src/map/enrich/load-ranges.js';
import { lookupAddresses } from '../../src/map/enrich/lookup-addresses.js';
import type { RangeSource } from '../../src/map/enrich/range-sources.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/enrich');

function fixtureSources(version: string, dir: string, files: { asn: string[]; country: string[] }): RangeSource[] {
  return [
    {
      source: 'asn',
      table: 'asn_ranges',
      columns: 'first, last, asn, org',
      package: 'fake-asn',
      version,
      files: files.asn.map((f) => join(FIXTURES, dir, f)),
    },
    {
      source: 'country',
      table: 'country_ranges',
      columns: 'first, last, country',
      package: 'fake-country',
      version,
      files: files.country.map((f) => join(FIXTURES, dir, f)),
    },
  ];
}
const V1 = fixtureSources('1.0.0', 'v1', {
  asn: ['asn-ipv4.csv', 'asn-ipv6.csv'],
  country: ['country-ipv4.csv', 'country-ipv6.csv'],
});
const V2 = fixtureSources('2.0.0', 'v2', { asn: ['asn-ipv4.csv'], country: ['country-ipv4.csv'] });
const BROKEN = fixtureSources('3.0.0', 'broken', { asn: ['asn-ipv4.csv'], country: [] });

// [address, kind, asn, country] after loading v1.
const V1_LOOKUPS: ReadonlyArray<readonly [string, string, number | null, string | null]> = [
  ['9.255.255.255', 'public', null, null], // before the first range
  ['11.0.0.0', 'public', 64500, 'NL'], // first address of a range
  ['11.0.0.255', 'public', 64500, 'NL'], // last address
  ['11.0.1.0', 'public', 64501, 'NL'], // first of the adjacent range
  ['11.0.1.255', 'public', 64501, 'NL'],
  ['11.0.2.0', 'public', null, null], // one past the end: a gap
  ['11.0.2.255', 'public', null, null],
  ['11.0.3.128', 'public', 64502, 'JP'],
  ['11.0.4.0', 'public', null, null], // after the last IPv4 range
  ['2a00:0:ffff::1', 'public', null, null], // before the first IPv6 range, after every IPv4 one
  ['2a00:1::', 'public', 64510, 'DE'],
  ['2a00:1:ffff:ffff:ffff:ffff:ffff:ffff', 'public', 64510, 'DE'],
  ['2a00:2::', 'public', null, null],
  ['10.1.2.3', 'private', null, null], // inside a loaded range, but never looked up
  ['100.64.1.1', 'shared', null, null],
];

describe('enrichment from loaded range tables', { skip }, () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  before(async () => {
    db = await createTestDatabase('enrich_ranges');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
  });

  after(async () => {
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  const lookup = async (address: string) => (await lookupAddresses(pool, [address]))[0]!;

  it('gives addresses only their kind before any data is loaded', async () => {
    assert.equal(await currentDataVersion(pool), null);
    assert.deepEqual(await lookup('11.0.0.1'), {
      address: '11.0.0.1',
      kind: 'public',
      asn: null,
      asOrg: null,
      country: null,
    });
  });

  it('loads the CSVs and records each package version', async () => {
    const r = await loadRanges(pool, V1);
    assert.deepEqual(
      r.loaded.map((l) => [l.source, l.rows]),
      [
        ['asn', 6],
        ['country', 5],
      ],
    );
    assert.equal(await currentDataVersion(pool), 'fake-asn@1.0.0 fake-country@1.0.0');
  });

  for (const [address, kind, asn, country] of V1_LOOKUPS) {
    it(`looks up ${address}: ${kind}, AS${asn ?? '-'}, ${country ?? '-'}`, async () => {
      const info = await lookup(address);
      assert.deepEqual([info.kind, info.asn, info.country], [kind, asn, country]);
    });
  }

  it('keeps the organisation text of a quoted CSV field', async () => {
    assert.equal((await lookup('11.0.0.7')).asOrg, 'Example Transit, Inc.');
  });

  it('answers a batch in input order, once per distinct address, in canonical form', async () => {
    const infos = await lookupAddresses(pool, ['11.0.3.1', '2A00:1::0:1', '10.0.0.1', '11.0.3.1']);
    assert.deepEqual(
      infos.map((i) => [i.address, i.asn]),
      [
        ['11.0.3.1', 64502],
        ['2a00:1::1', 64510],
        ['10.0.0.1', null],
      ],
    );
  });

  it('refuses text that is not an address', async () => {
    await assert.rejects(
      lookupAddresses(pool, ['11.0.0.1', 'example.com']),
      /not an IPv4 or IPv6 address: "example.com"/,
    );
  });

  it('stores address_info once per address, and writes nothing when re-enriched from the same data', async () => {
    const first = await enrichAddresses(pool, ['11.0.0.1', '11.0.2.1', '192.168.0.1', '11.0.0.1']);
    assert.deepEqual([first.written, first.unchanged], [3, 0]);
    const again = await enrichAddresses(pool, ['11.0.0.1', '11.0.2.1', '192.168.0.1']);
    assert.deepEqual([again.written, again.unchanged], [0, 3]);
    const { rows } = await pool.query(
      `select host(address) as address, kind, asn::int, as_org, country, data_version from address_info order by address`,
    );
    assert.deepEqual(rows, [
      {
        address: '11.0.0.1',
        kind: 'public',
        asn: 64500,
        as_org: 'Example Transit, Inc.',
        country: 'NL',
        data_version: 'fake-asn@1.0.0 fake-country@1.0.0',
      },
      {
        address: '11.0.2.1',
        kind: 'public',
        asn: null,
        as_org: null,
        country: null,
        data_version: 'fake-asn@1.0.0 fake-country@1.0.0',
      },
      {
        address: '192.168.0.1',
        kind: 'private',
        asn: null,
        as_org: null,
        country: null,
        data_version: 'fake-asn@1.0.0 fake-country@1.0.0',
      },
    ]);
  });

  it('does nothing when reloading the same version: the rows are not rewritten', async () => {
    const xmins = async () =>
      (await pool.query(`select xmin::text as x from asn_ranges union all select xmin::text from country_ranges`)).rows;
    const before = await xmins();
    const r = await loadRanges(pool, V1);
    assert.deepEqual(r, { loaded: [], unchanged: ['asn', 'country'] });
    assert.deepEqual(await xmins(), before);
  });

  it('keeps the old data whole when a new version fails halfway through loading', async () => {
    await assert.rejects(loadRanges(pool, BROKEN), /invalid input syntax for type inet/);
    assert.equal(await currentDataVersion(pool), 'fake-asn@1.0.0 fake-country@1.0.0');
    assert.equal((await lookup('11.0.1.1')).asn, 64501);
    assert.equal((await pool.query(`select count(*)::int as n from asn_ranges`)).rows[0].n, 6);
  });

  it('shows readers the old ranges until a new version commits, then only the new ones', async () => {
    // Hold the version row, so the loader stalls after replacing the ranges but before its commit.
    const holder = await pool.connect();
    try {
      await holder.query('begin');
      await holder.query(`select * from enrichment_sources where source = 'asn' for update`);
      const loading = loadRanges(pool, V2);
      const waiting = async () =>
        (
          await pool.query(
            `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
          )
        ).rows[0].n;
      for (let i = 0; i < 100 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await waiting(), 1, 'the loader waits on the held row');
      assert.deepEqual(
        [(await lookup('11.0.0.1')).asn, (await lookup('11.0.1.1')).asn, (await lookup('11.0.2.1')).asn],
        [64500, 64501, null],
      );
      await holder.query('commit');
      const r = await loading;
      assert.deepEqual(
        r.loaded.map((l) => [l.source, l.version, l.rows]),
        [
          ['asn', '2.0.0', 1],
          ['country', '2.0.0', 1],
        ],
      );
    } finally {
      holder.release();
    }
    assert.deepEqual(
      [(await lookup('11.0.2.1')).asn, (await lookup('11.0.2.1')).country, (await lookup('11.0.3.1')).asn],
      [64499, 'SE', null],
    );
    assert.equal(await currentDataVersion(pool), 'fake-asn@2.0.0 fake-country@2.0.0');
  });

  it('re-enriches addresses stored from an older version', async () => {
    const r = await enrichAddresses(pool, ['11.0.2.1', '11.0.0.1']);
    assert.equal(r.written, 2);
    const { rows } = await pool.query(
      `select asn::int, as_org, country, data_version from address_info where address = '11.0.2.1'`,
    );
    assert.deepEqual(rows, [
      { asn: 64499, as_org: 'Renumbered Example', country: 'SE', data_version: 'fake-asn@2.0.0 fake-country@2.0.0' },
    ]);
  });

  it('enrich_hops fills address_info for every hop lacking it or holding older data, in batches', async () => {
    await pool.query(`insert into hops (address, family) select a::inet, family(a::inet) from unnest($1::text[]) a`, [
      ['11.0.0.9', '11.0.2.1', '192.168.0.1', '100.64.0.9', '2a00:1::9', '11.0.7.7', '127.0.0.1'],
    ]);
    const written = await enrichPendingHops(pool, { batch: 2 });
    assert.equal(written, 6, 'every hop but 11.0.2.1, which is current already; 192.168.0.1 is from v1');
    const { rows } = await pool.query(
      `select count(*)::int as n from hops h left join address_info i on i.address = h.address
       where i.data_version is distinct from 'fake-asn@2.0.0 fake-country@2.0.0'`,
    );
    assert.equal(rows[0].n, 0);
    assert.equal(await enrichPendingHops(pool), 0);
  });
});
