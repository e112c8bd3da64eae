import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { check } from '@placemarkio/check-geojson';
import { geoContains } from 'd3-geo';
import type { Feature, FeatureCollection, LineString, MultiLineString, Point } from 'geojson';
import pg from 'pg';
import { mapPlugin } from '../../src/map/api/map-plugin.js';
import { countryPoint, countryShape } from '../../src/map/geo/country-points.js';
import { lineAcrossAntimeridian } from '../../src/map/geo/geojson-features.js';
import { interfaceGeojson } from '../../src/map/geo/geojson-stream.js';
import { MAX_GRAPH_PAGE } from '../../src/map/api/map-query-schemas.js';
import { managerService } from '../../src/manager/manager-service.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { Browser, codeFor, logIn } from '../manager/manager-browser.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

// Countries whose shapes trip naive placement: Chile and Norway (long and thin), Croatia (a crescent), Australia (two
// atlas shapes share its code), Fiji (across the antimeridian), Kosovo (no ISO numeric code).
const COUNTRIES = ['US', 'DE', 'JP', 'BR', 'AU', 'CL', 'NO', 'HR', 'FJ', 'XK', 'SG', 'ZA'];
const EVERY_COUNTRY_HAS_A_POINT = [
  'US',
  'CA',
  'MX',
  'BR',
  'AR',
  'CL',
  'PE',
  'GB',
  'FR',
  'DE',
  'IT',
  'ES',
  'NO',
  'SE',
  'FI',
  'RU',
  'CN',
  'JP',
  'KR',
  'IN',
  'ID',
  'PH',
  'VN',
  'TH',
  'MY',
  'SG',
  'AU',
  'NZ',
  'ZA',
  'NG',
  'EG',
  'KE',
  'HR',
  'GR',
  'TR',
  'IL',
  'AE',
  'SA',
  'IR',
  'FJ',
  'XK',
  'MT',
  'BH',
  'HK',
  'TW',
  'LU',
  'IS',
  'GL',
];

type Hop = Feature<
  Point,
  {
    kind: 'hop';
    address: string;
    asn: number | null;
    as_org: string | null;
    country: string;
    location_precision: string;
  }
>;
type Link = Feature<
  LineString | MultiLineString,
  {
    kind: 'link';
    near: string;
    far: string;
    count: number;
    delta_mean_us: number;
    near_country: string;
    far_country: string;
    location_precision: string;
  }
>;

describe('GeoJSON export of the interface graph', { skip }, () => {
  const serverKey = randomBytes(32);
  let db: TestDatabase;
  let manager: RunningService;
  let client: pg.Client;
  const br = new Browser('198.51.100.61');
  const geojson = async (qs = '') => {
    const res = await br.get(`${manager.url}/api/map/graph?format=geojson${qs}`);
    assert.equal(res.status, 200, res.text);
    return { res, fc: check(res.text) as FeatureCollection };
  };

  before(async () => {
    db = await createTestDatabase('geojson_export');
    manager = await startService(managerService({ serverKey, plugins: [mapPlugin] }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    client = new pg.Client(db.url);
    await client.connect();
    // 198.18.c.h: host h of country c (public for the test), 198.18.100.x private, 198.18.101.x not enriched. Each
    // country's hop 1 links to its hop 2 and to the next country's hop 1, and to a private and an unknown hop.
    const info: string[] = [];
    const links: string[] = [];
    COUNTRIES.forEach((c, i) => {
      info.push(
        `('198.18.${i}.1', 'public', ${64500 + i}, 'AS of ${c}', '${c}', 't')`,
        `('198.18.${i}.2', 'public', ${64500 + i}, 'AS of ${c}', '${c}', 't')`,
      );
      links.push(
        `('198.18.${i}.1', '198.18.${i}.2', ${i + 1})`,
        `('198.18.${i}.1', '198.18.${(i + 1) % COUNTRIES.length}.1', 1)`,
      );
      links.push(`('198.18.${i}.2', '198.18.100.${i}', 1)`, `('198.18.101.${i}', '198.18.${i}.2', 1)`);
      info.push(`('198.18.100.${i}', 'private', null, null, null, 't')`);
    });
    await client.query(
      `insert into address_info (address, kind, asn, as_org, country, data_version) values ${info.join(',')}`,
    );
    await client.query(`insert into links (near, far, first_seen_at, last_seen_at, count, delta_min_us, delta_max_us, delta_sum_us)
      select near::inet, far::inet, '2026-11-23T01:00:00Z', '2026-11-23T02:00:00Z', n, 100, 900, 500 * n from (values ${links.join(',')}) v(near, far, n)`);
    const alice = await addUser(manager.pool, serverKey, 'alice');
    assert.equal((await logIn(br, manager.url, manager.url, 'alice', await codeFor(alice.secret))).status, 303);
  });

  after(async () => {
    await client?.end();
    await manager?.stop();
    await db?.drop();
    await assertNoLeaks();
  });

  it('places every country inside its own shape', () => {
    for (const c of EVERY_COUNTRY_HAS_A_POINT) {
      const p = countryPoint(c);
      assert.ok(p, `${c} has a point`);
      assert.ok(geoContains(countryShape(c)!, p), `${c}'s point ${p.join(',')} is inside ${c}`);
      for (const other of ['US', 'RU', 'FR'])
        if (other !== c) assert.ok(!geoContains(countryShape(other)!, p), `${c}'s point is not in ${other}`);
    }
    assert.equal(
      countryPoint('GF'),
      null,
      'French Guiana has no shape of its own in the atlas: no point rather than France’s',
    );
  });

  it('is a valid RFC 7946 FeatureCollection: a Point per located hop, a line per link with both ends located', async () => {
    const { res, fc } = await geojson();
    assert.match(String(res.headers['content-type']), /^application\/geo\+json/);
    assert.equal(fc.type, 'FeatureCollection');
    assert.ok(!('crs' in fc), 'no crs member (RFC 7946 section 4)');
    const hops = fc.features.filter((f) => f.properties?.kind === 'hop') as Hop[];
    const lines = fc.features.filter((f) => f.properties?.kind === 'link') as Link[];
    assert.equal(hops.length + lines.length, fc.features.length);

    assert.deepEqual(
      hops.map((h) => h.properties.address).sort(),
      COUNTRIES.flatMap((_, i) => [`198.18.${i}.1`, `198.18.${i}.2`]).sort(),
      'private and unknown hops are not placed',
    );
    for (const h of hops) {
      const { country, address, asn, as_org, location_precision } = h.properties;
      const i = COUNTRIES.indexOf(country);
      assert.ok(address.startsWith(`198.18.${i}.`), `${address} is in ${country}`);
      assert.deepEqual([asn, as_org, location_precision, h.id], [64500 + i, `AS of ${country}`, 'country', address]);
      const [lon, lat] = h.geometry.coordinates as [number, number];
      assert.ok(Math.abs(lon) <= 180 && Math.abs(lat) <= 90, `lon, lat order: ${lon}, ${lat}`);
      assert.ok(
        geoContains(countryShape(country)!, [lon, lat]),
        `${address} (${country}) at ${lon},${lat} is inside ${country}`,
      );
    }

    assert.equal(
      lines.length,
      COUNTRIES.length * 2,
      'inside each country and to the next; none to private or unknown hops',
    );
    const pointOf = new Map(hops.map((h) => [h.properties.address, h.geometry.coordinates]));
    for (const l of lines) {
      const { near, far, near_country, far_country, count, delta_mean_us, location_precision } = l.properties;
      assert.equal(location_precision, 'country');
      assert.equal(delta_mean_us, 500);
      assert.equal(count, near_country === far_country ? COUNTRIES.indexOf(near_country) + 1 : 1);
      const ends =
        l.geometry.type === 'LineString'
          ? l.geometry.coordinates
          : [l.geometry.coordinates[0]![0]!, l.geometry.coordinates[1]!.at(-1)!];
      assert.deepEqual(ends, [pointOf.get(near), pointOf.get(far)], `${near} → ${far} joins their points`);
    }
    const fijiToKosovo = lines.find((l) => l.properties.near_country === 'FJ' && l.properties.far_country === 'XK')!;
    assert.equal(fijiToKosovo.geometry.type, 'LineString', 'Fiji to Kosovo goes west, within the map');
    const jpToBr = lines.find((l) => l.properties.near_country === 'JP' && l.properties.far_country === 'BR')!;
    assert.equal(
      jpToBr.geometry.type,
      'MultiLineString',
      'Japan to Brazil is shorter across the Pacific: cut at the antimeridian',
    );
  });

  it('cuts a line that would cross the antimeridian into two at ±180 (RFC 7946 3.1.9)', () => {
    const cut = lineAcrossAntimeridian([178, -18], [-98, 40]) as MultiLineString;
    assert.equal(cut.type, 'MultiLineString');
    assert.deepEqual(cut.coordinates[0]![1]![0], 180);
    assert.deepEqual(cut.coordinates[1]![0]![0], -180);
    assert.equal(cut.coordinates[0]![1]![1], cut.coordinates[1]![0]![1]);
    assert.ok(cut.coordinates[0]![1]![1]! > -18 && cut.coordinates[0]![1]![1]! < 40);
    assert.equal(lineAcrossAntimeridian([10, 0], [20, 0]).type, 'LineString');
    check(JSON.stringify({ type: 'Feature', properties: {}, geometry: cut }));
  });

  it('takes the graph filters, and is whole across keyset pages', async () => {
    const { fc } = await geojson('&country=JP');
    const lines = fc.features.filter((f) => f.properties?.kind === 'link') as Link[];
    // JP's hop 1 to its hop 2 and to Brazil's, Germany's hop 1 to Japan's; the links to private and unknown hops are not drawn.
    assert.deepEqual(lines.map((l) => `${l.properties.near_country}>${l.properties.far_country}`).sort(), [
      'DE>JP',
      'JP>BR',
      'JP>JP',
    ]);
    const hops = fc.features.filter((f) => f.properties?.kind === 'hop') as Hop[];
    assert.deepEqual(hops.map((h) => h.properties.address).sort(), [
      '198.18.1.1',
      '198.18.2.1',
      '198.18.2.2',
      '198.18.3.1',
    ]);
  });

  it('streams 10,000 links in one answer (size and time reported, not asserted)', async (t) => {
    // 5,000 more addresses spread over the 12 countries and 10,000 links among them: two keyset pages in all.
    await client.query(
      `insert into address_info (address, kind, asn, as_org, country, data_version)
      select ('10.1.0.0'::inet + i), 'public', 65000 + i % 50, 'AS ' || (i % 50), ($1::text[])[1 + i % ${COUNTRIES.length}], 't' from generate_series(0, 4999) i`,
      [COUNTRIES],
    );
    await client.query(`insert into links (near, far, first_seen_at, last_seen_at, count, delta_min_us, delta_max_us, delta_sum_us)
      select '10.1.0.0'::inet + (i % 5000), '10.1.0.0'::inet + ((i * 7 + 1 + i / 5000) % 5000), now(), now(), 1 + i % 9, 10, 90, 50 * (1 + i % 9) from generate_series(0, 9999) i
      on conflict do nothing`);
    const { rows } = await client.query(`select count(*)::int as n from links where near << '10.1.0.0/16'`);
    const started = performance.now();
    const res = await br.get(`${manager.url}/api/map/graph?format=geojson`);
    const ms = performance.now() - started;
    assert.equal(res.status, 200);
    const fc = check(res.text) as FeatureCollection;
    const lines = fc.features.filter((f) => f.properties?.kind === 'link').length;
    assert.equal(
      lines,
      rows[0].n + COUNTRIES.length * 2,
      'every link (more than one keyset page of 10,000 with the first ones)',
    );
    t.diagnostic(
      `over HTTP: ${fc.features.length} features (${lines} links), ${(res.text.length / 1e6).toFixed(2)} MB in ${ms.toFixed(0)} ms`,
    );
    const direct = performance.now();
    let bytes = 0;
    for await (const chunk of interfaceGeojson(manager.pool, {}, MAX_GRAPH_PAGE)) bytes += chunk.length;
    assert.equal(bytes, res.text.length);
    t.diagnostic(
      `written by the server alone (queries and encoding, no socket): ${(performance.now() - direct).toFixed(0)} ms`,
    );
  });
});
