import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { installedPlugins } from '../../src/cli/installed-plugins.js';
import { managerService } from '../../src/manager/manager-service.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { enrichAddresses } from '../../src/map/enrich/enrich-addresses.js';
import { loadRanges } from '../../src/map/enrich/load-ranges.js';
import { installedRangeSources } from '../../src/map/enrich/range-sources.js';
import { countryPoint } from '../../src/map/geo/country-points.js';
import { MAP_WIDTH, projectPoint } from '../../src/map/geo/world-projection.js';
import { MARKER_COLOURS, markerColour, NO_AS_COLOUR } from '../../src/map/pages/world-map-page.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { launchBrowser, logInWithTotp } from '../support/browser.js';
import { request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'chromium');

// pngjs ships without types; it is here as a dependency of qrcode.
const { PNG } = createRequire(import.meta.url)('pngjs') as {
  PNG: { sync: { read(png: Buffer): { width: number; height: number; data: Buffer } } };
};

// Public anycast and registry addresses on four continents; their countries come from the installed DB-IP data
// (at the time of writing: US, US, US, BR, BR, JP, ZA, AU, NL, RU), never from this list.
const HOPS = [
  '8.8.8.8',
  '8.8.4.4',
  '9.9.9.9',
  '200.160.2.3',
  '200.160.0.8',
  '202.12.27.33',
  '196.216.2.1',
  '1.1.1.1',
  '193.0.6.139',
  '77.88.8.8',
];
const LINKS: Array<[string, string]> = [
  ['8.8.8.8', '8.8.4.4'],
  ['8.8.8.8', '193.0.6.139'],
  ['193.0.6.139', '77.88.8.8'],
  ['9.9.9.9', '200.160.2.3'],
  ['200.160.0.8', '196.216.2.1'],
  ['202.12.27.33', '1.1.1.1'],
  ['8.8.4.4', '202.12.27.33'],
  ['10.0.0.1', '8.8.8.8'],
];

const ipv4 = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);

/**
 * The rows of the installed IPv4 range files that hold `addresses`: the real data, cut to what the test looks up,
 * so loading it takes milliseconds instead of the full packages' seconds.
 */
function realRangesFor(addresses: string[], dir: string) {
  const wanted = addresses.map(ipv4);
  return installedRangeSources().map((s) => {
    const ipv4File = s.files.find((f) => f.endsWith('ipv4.csv'))!;
    const rows = readFileSync(ipv4File, 'utf8')
      .split('\n')
      .filter((line) => {
        const [first, last] = line.split(',');
        return first && last && wanted.some((a) => ipv4(first) <= a && a <= ipv4(last));
      });
    const file = join(dir, `${s.source}.csv`);
    writeFileSync(file, rows.join('\n') + '\n');
    return { ...s, files: [file] };
  });
}

const hex = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)) as [number, number, number];
const near = (px: Buffer, i: number, [r, g, b]: [number, number, number]) =>
  Math.abs(px[i]! - r) <= 3 && Math.abs(px[i + 1]! - g) <= 3 && Math.abs(px[i + 2]! - b) <= 3;

describe('world map page in a browser', { skip }, () => {
  const serverKey = randomBytes(32);
  const dataDir = mkdtempSync(join(tmpdir(), 'hopmap-world-map-'));
  let db: TestDatabase;
  let pool: Pool;
  let manager: RunningService;
  let chromium: Awaited<ReturnType<typeof launchBrowser>>;
  let browser: Browser;
  /** Per country: hop count and its dominant AS, from what enrichment stored. */
  const expected = new Map<string, { hops: number; asn: number | null }>();

  before(async () => {
    db = await createTestDatabase('world_map');
    pool = createPool(db.url, quietLog, { max: 2 });
    manager = await startService(managerService({ serverKey, plugins: installedPlugins }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    await loadRanges(pool, realRangesFor(HOPS, dataDir));
    await enrichAddresses(pool, [...HOPS, '10.0.0.1']);
    await pool.query(
      `insert into links (near, far, first_seen_at, last_seen_at, count, delta_min_us, delta_max_us, delta_sum_us)
       select near::inet, far::inet, now(), now(), 3, 100, 900, 1500 from unnest($1::text[], $2::text[]) v(near, far)`,
      [LINKS.map((l) => l[0]), LINKS.map((l) => l[1])],
    );
    const { rows } = await pool.query<{ country: string; asn: string; n: number }>(
      `select country, asn, count(*)::int as n from address_info where country is not null group by 1, 2 order by 1, n desc, 2`,
    );
    for (const r of rows) {
      const c = expected.get(r.country);
      if (c) c.hops += r.n;
      else expected.set(r.country, { hops: r.n, asn: r.asn === null ? null : Number(r.asn) });
    }
    chromium = await launchBrowser();
    browser = chromium.browser;
  });

  after(async () => {
    await chromium?.close();
    await manager?.stop();
    await pool?.end();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('the real data put the hops in five or more countries far apart', () => {
    assert.ok(expected.size >= 5, `countries: ${[...expected.keys()].join(',')}`);
    for (const c of expected.keys()) assert.ok(countryPoint(c), `${c} has a point`);
  });

  it('needs a signed-in user', async () => {
    const res = await request(`${manager.url}/world`, { headers: { 'x-forwarded-for': '198.51.100.41' } });
    assert.ok(res.status >= 300 && res.status < 400, `status ${res.status}`);
    assert.match(String(res.headers.location), /\/login$/);
  });

  it('draws a marker per country at its place, in its AS colour, and the links as arcs; fits a phone', async () => {
    const { secret } = await addUser(pool, serverKey, 'ops');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    // Chromium asks for /favicon.ico, which the manager does not have; any other failed request is a problem.
    page.on(
      'response',
      (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && problems.push(`${r.status()} ${r.url()}`),
    );
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`${manager.url}/login`);
    await logInWithTotp(page, manager.url, 'ops', secret);

    requested.length = 0;
    await Promise.all([page.waitForURL(`${manager.url}/world`), page.click('nav >> text=World map')]);
    assert.equal(await page.textContent('h1'), 'World map');
    assert.deepEqual(
      requested.filter((u) => !u.startsWith(manager.url)),
      [],
      'nothing fetched from elsewhere',
    );

    const circles = page.locator('svg.world-map circle.country-hops');
    assert.equal(await circles.count(), expected.size);
    for (const [country, e] of expected) {
      const circle = page.locator(`svg.world-map circle[data-country="${country}"]`);
      assert.equal(await circle.getAttribute('fill'), markerColour(e.asn), `${country} in the colour of AS${e.asn}`);
      assert.match(
        (await circle.locator('title').textContent())!,
        new RegExp(`\\(${country}\\): ${e.hops} hop address`),
      );
    }
    const countryPairs = new Set(
      (
        await pool.query<{ p: string }>(
          `select distinct least(a.country, b.country) || greatest(a.country, b.country) as p from links l join address_info a on a.address = l.near join address_info b on b.address = l.far where a.country <> b.country`,
        )
      ).rows.map((r) => r.p),
    );
    assert.ok(countryPairs.size >= 5);
    assert.equal(
      await page.locator('svg.world-map g[fill="none"] path').count(),
      countryPairs.size,
      'an arc per pair of countries linked',
    );

    // The screenshot: each country's marker colour fills a disc at the projection of its point, and no marker colour
    // shows anywhere else.
    const box = (await page.locator('svg.world-map').boundingBox())!;
    const scale = box.width / MAP_WIDTH;
    const shot = await page.screenshot({ fullPage: true });
    if (process.env.HOPMAP_SCREENSHOT_DIR)
      writeFileSync(join(process.env.HOPMAP_SCREENSHOT_DIR, 'world-map.png'), shot);
    const png = PNG.sync.read(shot);
    const discs = await Promise.all(
      [...expected].map(async ([country, e]) => {
        const [x, y] = projectPoint(countryPoint(country)!);
        const r = Number(await page.locator(`svg.world-map circle[data-country="${country}"]`).getAttribute('r'));
        return {
          country,
          colour: hex(markerColour(e.asn)),
          cx: box.x + x * scale,
          cy: box.y + y * scale,
          r: r * scale,
        };
      }),
    );
    for (const a of discs)
      for (const b of discs)
        if (a !== b)
          assert.ok(
            Math.hypot(a.cx - b.cx, a.cy - b.cy) > a.r + b.r,
            `${a.country} and ${b.country} are apart on the map`,
          );
    const palette = [...MARKER_COLOURS, NO_AS_COLOUR].map(hex);
    const inDisc = new Map(discs.map((d) => [d.country, 0]));
    let astray = 0;
    for (let py = 0; py < png.height; py++) {
      for (let px = 0; px < png.width; px++) {
        const i = (py * png.width + px) * 4;
        const disc = discs.find((d) => Math.hypot(px + 0.5 - d.cx, py + 0.5 - d.cy) <= d.r + 2);
        if (disc) {
          if (near(png.data, i, disc.colour)) inDisc.set(disc.country, inDisc.get(disc.country)! + 1);
        } else if (palette.some((c) => near(png.data, i, c))) astray++;
      }
    }
    for (const d of discs) {
      const area = Math.PI * (d.r - 1) ** 2;
      assert.ok(
        inDisc.get(d.country)! > 0.6 * area,
        `${d.country}'s marker at ${d.cx.toFixed(0)},${d.cy.toFixed(0)}: ${inDisc.get(d.country)} of ~${area.toFixed(0)} pixels in its colour`,
      );
    }
    assert.ok(astray < 20, `${astray} pixels of marker colours away from every marker`);

    assert.match(
      (await page.textContent('p.map-caption'))!,
      new RegExp(`${HOPS.length} hop addresses in ${expected.size} countries; 1 without a country`),
    );

    await page.setViewportSize({ width: 375, height: 740 });
    assert.ok(
      await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1'),
      'no horizontal scroll at 375 px',
    );
    const small = (await page.locator('svg.world-map').boundingBox())!;
    assert.ok(small.width <= 375 && small.width > 300, `the map scales to the phone: ${small.width} px wide`);
    assert.deepEqual(problems, []);
    if (process.env.HOPMAP_SCREENSHOT_DIR)
      await page.screenshot({ path: join(process.env.HOPMAP_SCREENSHOT_DIR, 'world-map-375.png'), fullPage: true });
    await page.close();
  });
});
