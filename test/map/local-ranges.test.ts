import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { currentDataVersion } from '../../src/map/enrich/data-version.js';
import { enrichPendingHops } from '../../src/map/enrich/enrich-hops-task.js';
import { loadRanges } from '../../src/map/enrich/load-ranges.js';
import { loadLocalRanges } from '../../src/map/enrich/local-ranges.js';
import { lookupAddresses } from '../../src/map/enrich/lookup-addresses.js';
import { parseLocalRanges } from '../../src/map/enrich/parse-local-ranges.js';
import type { RangeSource } from '../../src/map/enrich/range-sources.js';
import { BIN_PATH, PROJECT_ROOT } from '../../src/version.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode } from '../support/spawn-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

// The public data stand-in of enrich-ranges.test.ts: 11.0.0.0/24 is AS64500 in NL.
const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/enrich/v1');
const PUBLIC: RangeSource[] = [
  {
    source: 'asn',
    table: 'asn_ranges',
    columns: 'first, last, asn, org',
    package: 'fake-asn',
    version: '1.0.0',
    files: [join(FIXTURES, 'asn-ipv4.csv')],
  },
  {
    source: 'country',
    table: 'country_ranges',
    columns: 'first, last, country',
    package: 'fake-country',
    version: '1.0.0',
    files: [join(FIXTURES, 'country-ipv4.csv')],
  },
];

const DECLARED = `prefix,asn,org,country
# the lab, and what the operator knows of its own networks
198.18.0.0/15,AS64496,"Lab, transit",
198.18.7.0/24, 64497 ,Lab edge,se

10.20.0.0/16,64512,Example Corp,NL
11.0.0.128/25,64499,Own public
2001:2::/48,64498,Lab v6
`;

// [address, kind, asn, org, country] with DECLARED and the public stand-in loaded.
const LOOKUPS: ReadonlyArray<readonly [string, string, number | null, string | null, string | null]> = [
  ['198.18.0.1', 'benchmarking', 64496, 'Lab, transit', null],
  ['198.19.255.255', 'benchmarking', 64496, 'Lab, transit', null],
  ['198.18.7.9', 'benchmarking', 64497, 'Lab edge', 'SE'], // the most specific range wins
  ['10.20.1.1', 'private', 64512, 'Example Corp', 'NL'],
  ['10.21.0.1', 'private', null, null, null], // outside every declared range
  ['11.0.0.200', 'public', 64499, 'Own public', 'NL'], // declared before the public data; its country kept
  ['11.0.0.1', 'public', 64500, 'Example Transit, Inc.', 'NL'], // the public data
  ['2001:2::1', 'benchmarking', 64498, 'Lab v6', null],
  ['192.0.2.1', 'documentation', null, null, null],
];

// Each bad file names the line and the field.
const BAD: ReadonlyArray<readonly [string, string, RegExp]> = [
  [
    'host bits',
    'prefix,asn,org\n10.0.0.1/8,64500,x\n',
    /^line 2, field prefix: host bits are set in 10\.0\.0\.1\/8; the network is 10\.0\.0\.0\/8$/,
  ],
  ['not a prefix', '# c\n\nlab,64500,x\n', /^line 3, field prefix: not an IPv4 or IPv6 address or CIDR: "lab"$/],
  [
    'AS number',
    '10.0.0.0/8,64500,x\n10.1.0.0/16,AS-1,y\n',
    /^line 2, field asn: "AS-1" is not an AS number \(1 to 4294967295, "AS" optional\)$/,
  ],
  ['AS 0', '10.0.0.0/8,0,x\n', /^line 1, field asn: "0" is not an AS number/],
  ['AS too large', '10.0.0.0/8,4294967296,x\n', /^line 1, field asn: "4294967296" is not an AS number/],
  ['empty org', '10.0.0.0/8,64500,\n', /^line 1, field org: the organisation name is empty$/],
  ['country', '10.0.0.0/8,64500,x,XX\n', /^line 1, field country: "XX" is not an ISO 3166-1 alpha-2 country code$/],
  ['field count', '10.0.0.0/8,64500\n', /^line 1: 2 fields; expected prefix,asn,org,country \(country optional\)$/],
  ['open quote', '10.0.0.0/8,64500,"x\n', /^line 1: a quoted field is not closed$/],
  [
    'repeat',
    '10.0.0.0/8,64500,x\n10.0.0.0/8,64501,y\n',
    /^line 2, field prefix: 10\.0\.0\.0\/8 is declared on line 1 already$/,
  ],
];

describe('operator-declared ranges (hopmap enrich local)', { skip }, () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let dir: string;

  before(async () => {
    db = await createTestDatabase('local_ranges');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    dir = mkdtempSync(join(tmpdir(), 'hopmap-local-ranges-'));
    await loadRanges(pool, PUBLIC);
  });

  after(async () => {
    await pool?.end();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('reads prefix,asn,org[,country] with a header, comments, quoted commas and an optional AS prefix', () => {
    assert.deepEqual(parseLocalRanges(DECLARED).slice(0, 3), [
      { prefix: '198.18.0.0/15', asn: 64496, org: 'Lab, transit', country: null },
      { prefix: '198.18.7.0/24', asn: 64497, org: 'Lab edge', country: 'SE' },
      { prefix: '10.20.0.0/16', asn: 64512, org: 'Example Corp', country: 'NL' },
    ]);
    assert.deepEqual(parseLocalRanges('198.18.0.1,64500,"say ""hi""",\n'), [
      { prefix: '198.18.0.1/32', asn: 64500, org: 'say "hi"', country: null },
    ]);
  });

  for (const [what, text, message] of BAD) {
    it(`refuses a bad line, naming it and the field: ${what}`, () => {
      assert.throws(() => parseLocalRanges(text), { name: 'LocalRangesError', message });
    });
  }

  it('allows an AS on space that is not public only when a declared range gave it', async () => {
    const insert = (source: string | null, kind = 'benchmarking') =>
      pool.query(
        `insert into address_info (address, kind, asn, as_org, source) values ('198.18.9.9', $2, 64500, 'x', $1)`,
        [source, kind],
      );
    await assert.rejects(insert(null), /address_info_public_only_check/);
    await assert.rejects(insert('ip-location-db'), /address_info_public_only_check/);
    await assert.rejects(insert('elsewhere', 'public'), /address_info_source_check/);
    await insert('declared');
    await pool.query(`delete from address_info`);
  });

  it('loads the declared set, which joins the data version', async () => {
    const publicOnly = await currentDataVersion(pool);
    assert.equal(publicOnly, 'fake-asn@1.0.0 fake-country@1.0.0');
    const r = await loadLocalRanges(pool, parseLocalRanges(DECLARED));
    assert.equal(r.changed, true);
    assert.equal(r.ranges, 5);
    assert.equal(await currentDataVersion(pool), `${publicOnly} local-ranges@${r.version}`);
  });

  for (const [address, kind, asn, org, country] of LOOKUPS) {
    it(`looks up ${address}: ${kind}, AS${asn ?? '-'} ${org ?? '-'}, ${country ?? '-'}`, async () => {
      const [info] = await lookupAddresses(pool, [address]);
      assert.deepEqual([info!.kind, info!.asn, info!.asOrg, info!.country], [kind, asn, org, country]);
    });
  }

  it('stores where each AS came from, and looks every hop up again when the declared set changes', async () => {
    const hops = ['198.18.0.1', '198.18.7.9', '11.0.0.1', '11.0.0.200', '192.168.1.1'];
    await pool.query(`insert into hops (address, family) select a::inet, family(a::inet) from unnest($1::text[]) a`, [
      hops,
    ]);
    const stored = async () =>
      (await pool.query(`select host(address) as a, asn::int, source from address_info order by address`)).rows.map(
        (r) => [r.a, r.asn, r.source],
      );

    assert.equal(await enrichPendingHops(pool), 5);
    assert.deepEqual(await stored(), [
      ['11.0.0.1', 64500, 'ip-location-db'],
      ['11.0.0.200', 64499, 'declared'],
      ['192.168.1.1', null, null],
      ['198.18.0.1', 64496, 'declared'],
      ['198.18.7.9', 64497, 'declared'],
    ]);
    assert.equal(await enrichPendingHops(pool), 0, 'nothing pending once enriched');

    const same = await loadLocalRanges(pool, parseLocalRanges(DECLARED).reverse());
    assert.equal(same.changed, false, 'the same ranges in another order are the same set');
    assert.equal(await enrichPendingHops(pool), 0);

    await loadLocalRanges(pool, parseLocalRanges(DECLARED.replace('AS64496', '64501')));
    assert.equal(await enrichPendingHops(pool), 5, 'a new declared set re-enriches every hop');
    assert.deepEqual((await stored())[3], ['198.18.0.1', 64501, 'declared']);

    const cleared = await loadLocalRanges(pool, []);
    assert.deepEqual([cleared.changed, cleared.version], [true, null]);
    assert.equal(await currentDataVersion(pool), 'fake-asn@1.0.0 fake-country@1.0.0');
    assert.equal(await enrichPendingHops(pool), 5);
    assert.deepEqual(await stored(), [
      ['11.0.0.1', 64500, 'ip-location-db'],
      ['11.0.0.200', 64500, 'ip-location-db'],
      ['192.168.1.1', null, null],
      ['198.18.0.1', null, null],
      ['198.18.7.9', null, null],
    ]);
  });

  it('hopmap enrich local FILE loads, --list prints, --clear removes; a bad file names its line and field, exit 1', async () => {
    const hopmap = async (...args: string[]) => {
      const p = spawnNode([BIN_PATH, 'enrich', 'local', ...args], { DATABASE_URL: db.url });
      const { code } = await p.exited;
      return { code, output: p.output() };
    };
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'prefix,asn,org\n10.0.0.0/8,64500,ok\n10.1.0.0/16,6450x,typo\n');
    const refused = await hopmap(bad);
    assert.equal(refused.code, 1, refused.output);
    assert.equal(
      refused.output,
      `hopmap: ${bad}: line 3, field asn: "6450x" is not an AS number (1 to 4294967295, "AS" optional)\n`,
    );

    const good = join(dir, 'good.csv');
    writeFileSync(good, '198.18.0.0/15,64500,lab core,\n10.0.0.0/8,AS64512,"Example, Corp",nl\n');
    const loaded = await hopmap(good);
    assert.equal(loaded.code, 0, loaded.output);
    assert.match(
      loaded.output,
      /^local: loaded 2 declared ranges \(local-ranges@[0-9a-f]{16}\); hops are looked up again/,
    );
    assert.equal((await hopmap(good)).output, 'local: unchanged (2 declared ranges)\n');
    assert.equal(
      (await hopmap('--list')).output,
      '10.0.0.0/8\tAS64512\tExample, Corp\tNL\n198.18.0.0/15\tAS64500\tlab core\t-\n',
    );

    const cleared = await hopmap('--clear');
    assert.match(cleared.output, /^local: cleared/);
    assert.equal((await hopmap('--list')).output, '');
    assert.equal((await hopmap()).code, 1, 'a file, --clear or --list');
  });
});
