import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import type { LabRun } from '../../src/lab/lab-run.js';
import { installedPlugins } from '../../src/cli/installed-plugins.js';
import { managerService } from '../../src/manager/manager-service.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { asColour } from '../../src/map/client/as-colour.js';
import { scatterStep } from '../../src/map/client/scatter-order.js';
import { nodeSize, SOLID_LINK_COLOUR } from '../../src/map/client/graph-style.js';
import { layoutByAs } from '../../src/map/client/layout-by-as.js';
import { enrichPendingHops } from '../../src/map/enrich/enrich-hops-task.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { drillPlace, removeDrill, startDrill, type DrillPlace } from '../lab/lab-drill.js';
import { launchBrowser, logInWithTotp } from '../support/browser.js';
import { request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'root', 'ip', 'chromium');

// pngjs ships without types; it is here as a dependency of qrcode.
const { PNG } = createRequire(import.meta.url)('pngjs') as {
  PNG: { sync: { read(png: Buffer): { width: number; height: number; data: Buffer } } };
};

type Rgb = readonly [number, number, number];
interface Shot {
  width: number;
  height: number;
  data: Buffer;
}

const near = (data: Buffer, i: number, c: Rgb, tolerance: number) =>
  Math.abs(data[i]! - c[0]) <= tolerance &&
  Math.abs(data[i + 1]! - c[1]) <= tolerance &&
  Math.abs(data[i + 2]! - c[2]) <= tolerance;

function countColour(
  shot: Shot,
  c: Rgb,
  tolerance: number,
  box?: { x: number; y: number; w: number; h: number },
): number {
  const { x, y, w, h } = box ?? { x: 0, y: 0, w: shot.width, h: shot.height };
  let n = 0;
  for (let row = y; row < y + h; row++)
    for (let col = x; col < x + w; col++) if (near(shot.data, (row * shot.width + col) * 4, c, tolerance)) n++;
  return n;
}

const canvasShot = async (canvas: Locator): Promise<Shot> => PNG.sync.read(await canvas.screenshot());

async function waitForRender(page: Page): Promise<Record<string, string>> {
  await page.waitForSelector('#graph-view[data-rendered-at], #graph-view[data-error]', { timeout: 90_000 });
  const data = await page
    .locator('#graph-view')
    .evaluate((e) => ({ ...(e as unknown as { dataset: Record<string, string> }).dataset }));
  assert.equal(data.error, undefined, `the page failed: ${data.error}`);
  return data;
}

describe('graph page layout: every node placed at once, grouped by AS', { skip }, () => {
  it('puts each AS on a disc of its own, no two discs overlapping, each node inside its AS’s disc, the same every time', () => {
    // A heavy-tailed mix like the internet's: one big AS, a few mid-sized, hundreds of small ones, and no-AS nodes.
    const sizes = [5_000, 800, 800, 120, ...Array.from({ length: 600 }, (_, i) => 1 + ((i * 37) % 150))];
    const nodeAs: number[] = [];
    sizes.forEach((n, as) => nodeAs.push(...Array.from({ length: n }, () => as)));
    nodeAs.push(...Array.from({ length: 3_000 }, () => -1));
    const layout = layoutByAs(nodeAs);
    assert.equal(layout.clusters.length, sizes.length + 1);
    assert.deepEqual(
      layout.clusters.slice(0, 2).map((c) => [c.as, c.count]),
      [
        [0, 5_000],
        [-1, 3_000],
      ],
      'largest first',
    );
    const c = layout.clusters;
    for (let i = 0; i < c.length; i++) {
      for (let j = i + 1; j < c.length; j++) {
        const d = Math.hypot(c[i]!.x - c[j]!.x, c[i]!.y - c[j]!.y);
        assert.ok(
          d >= c[i]!.radius + c[j]!.radius,
          `AS groups ${c[i]!.as} and ${c[j]!.as} overlap: ${d} < ${c[i]!.radius} + ${c[j]!.radius}`,
        );
      }
    }
    const byAs = new Map(c.map((k) => [k.as, k]));
    for (let i = 0; i < nodeAs.length; i++) {
      const k = byAs.get(nodeAs[i]!)!;
      assert.ok(Math.hypot(layout.x[i]! - k.x, layout.y[i]! - k.y) <= k.radius, `node ${i} lies in its AS's disc`);
    }
    assert.deepEqual(layoutByAs(nodeAs).x, layout.x, 'deterministic');
  });

  it("adds a large graph's nodes in a scattered order whose first fifth is an even sample of every part", () => {
    for (const n of [1, 2, 100_000, 123_457, 250_000]) {
      const step = scatterStep(n);
      const seen = new Uint8Array(n);
      for (let k = 0, i = 0; k < n; k++, i = (i + step) % n) seen[i]!++;
      assert.ok(
        seen.every((v) => v === 1),
        `n = ${n}: every node exactly once`,
      );
    }
    // The nodes a moving frame draws: the first fifth, spread over every tenth of the (AS-ordered) index range.
    const n = 100_000;
    const step = scatterStep(n);
    const tenths = new Array<number>(10).fill(0);
    for (let k = 0, i = 0; k < n / 5; k++, i = (i + step) % n) tenths[Math.floor(i / (n / 10))]!++;
    for (const t of tenths)
      assert.ok(Math.abs(t - n / 50) <= n / 500, `a tenth of the graph has ${t} of the ${n / 5} sampled nodes`);
  });
});

/**
 * The graph page on the map of a real lab run (lab/internet.yaml: 30 routers in four ASes, workers in three
 * vantages), converged and enriched: a real chromium draws it with WebGL (SwiftShader) and the screenshots are
 * decoded to find each AS's colour and the links in the amounts the map's counts imply.
 */
describe('graph page: the lab map drawn with WebGL, coloured by AS, with search and link RTTs', { skip }, () => {
  const serverKey = randomBytes(32);
  let db: TestDatabase;
  let place: DrillPlace;
  let run: LabRun | undefined;
  let pool: Pool;
  let manager: RunningService;
  let chromium: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  /** Addresses of the map per ASN, and its link count. */
  const byAs = new Map<number, string[]>();
  let links = 0;
  let filledByTest = 0;

  before(async () => {
    place = await drillPlace('tgraphpg');
    db = await createTestDatabase('graph_page');
    run = await startDrill(place, { serverUrl: db.adminUrl, database: db.name });
    await run.waitForConvergence({ timeoutMs: 6 * 60_000 });
    // What the output's enrich_hops job does within a minute, done now.
    await enrichPendingHops(run.pool, { maxBatches: Number.MAX_SAFE_INTEGER });
    const { plan } = run.lab;
    const truth = run.lab.truth();
    await removeDrill(place, run);

    pool = createPool(db.url, quietLog, { max: 2 });
    // The lab declares its AS design (lab AS<n>); any end enrichment left without one gets it here, counted.
    const ends = await pool.query<{ a: string; asn: string | null }>(
      `select host(n.a) as a, ai.asn from (select near as a from links union select far from links) n left join address_info ai on ai.address = n.a`,
    );
    for (const r of ends.rows) {
      let asn = r.asn === null ? undefined : Number(r.asn);
      if (asn === undefined) {
        const node = truth.nodeOf(r.a);
        asn = node === undefined ? undefined : plan.nodes.get(node)?.as;
        assert.ok(asn !== undefined, `${r.a} is no address of the lab`);
        await pool.query(
          `insert into address_info (address, kind, asn, as_org, data_version, source) values ($1, 'reserved', $2, $3, 'test', 'declared')
           on conflict (address) do update set asn = excluded.asn, as_org = excluded.as_org, source = 'declared'`,
          [r.a, asn, `lab AS${asn}`],
        );
        filledByTest++;
      }
      byAs.set(asn, [...(byAs.get(asn) ?? []), r.a]);
    }
    links = (await pool.query<{ n: number }>('select count(*)::int as n from links')).rows[0]!.n;
    console.log(
      `# the lab map: ${ends.rows.length} addresses, ${links} links; per AS ${[...byAs].map(([a, l]) => `AS${a}: ${l.length}`).join(', ')}; AS filled in by the test: ${filledByTest}`,
    );

    manager = await startService(managerService({ serverKey, plugins: installedPlugins }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    chromium = await launchBrowser();
  });

  after(async () => {
    await chromium?.close();
    await manager?.stop();
    await pool?.end();
    if (place) await removeDrill(place, run);
    await db?.drop();
    await assertNoLeaks();
  });

  it('needs a signed-in user for the page and its data', async () => {
    const page = await request(`${manager.url}/map/graph`, { headers: { 'x-forwarded-for': '198.51.100.50' } });
    assert.ok(page.status >= 300 && page.status < 400, `status ${page.status}`);
    assert.match(String(page.headers.location), /\/login$/);
    const api = await request(`${manager.url}/api/map/graph-view`, { headers: { 'x-forwarded-for': '198.51.100.50' } });
    assert.equal(api.status, 401);
  });

  it('draws every address in its AS colour and the links, zooms to a searched address, and shows a link’s RTT', async () => {
    const { secret } = await addUser(pool, serverKey, 'ops');
    const page = await chromium!.browser.newPage({ viewport: { width: 1280, height: 800 } });
    const scriptErrors: string[] = [];
    page.on('pageerror', (e) => scriptErrors.push(e.message));
    await page.goto(`${manager.url}/login`);
    await logInWithTotp(page, manager.url, 'ops', secret);
    await page.click('nav >> text=Graph');
    assert.equal(await page.textContent('h1'), 'Graph');

    const nodes = [...byAs.values()].reduce((n, l) => n + l.length, 0);
    const rendered = await waitForRender(page);
    assert.equal(Number(rendered.renderedNodes), nodes, 'every address of the map is a node');
    assert.equal(Number(rendered.renderedLinks), links, 'every link of the map is an edge');
    assert.match((await page.textContent('.graph-status'))!, new RegExp(`^${nodes} addresses, ${links} links`));
    assert.deepEqual(
      (await page.locator('.graph-legend li').allTextContents()).map((t) => t.replace(/ \(\d+\)$/, '')).sort(),
      [...byAs.keys()].sort().map((a) => `AS${a} lab AS${a}`),
    );

    const canvas = page.locator('.graph-canvas');
    const shot = await canvasShot(canvas);
    // A node is a disc of radius nodeSize CSS px (1 px here); they may touch, not hide each other much.
    const disc = Math.PI * nodeSize(nodes) ** 2;
    for (const [asn, addresses] of byAs) {
      const px = countColour(shot, asColour(asn), 3);
      console.log(
        `# AS${asn}: ${addresses.length} nodes, ${px} px of its colour (${(px / addresses.length).toFixed(0)} per node, a disc is ${disc.toFixed(0)})`,
      );
      assert.ok(
        px >= 0.5 * disc * addresses.length,
        `AS${asn}'s ${addresses.length} nodes show: ${px} px of its colour`,
      );
      assert.ok(px <= 1.3 * disc * addresses.length, `AS${asn}'s colour covers no more than its nodes: ${px} px`);
    }
    const linkPx = countColour(shot, SOLID_LINK_COLOUR, 12);
    console.log(`# links: ${links}, ${linkPx} px of the link colour`);
    assert.ok(linkPx >= 5 * links, `the ${links} links show: ${linkPx} px of the link colour`);

    // Search: the address comes to the middle of the view, drawn large in its AS colour; the panel names it.
    const southAsn = 64503;
    const target = [...byAs.get(southAsn)!].sort()[0]!;
    const centre = { x: Math.floor(shot.width / 2) - 4, y: Math.floor(shot.height / 2) - 4, w: 9, h: 9 };
    await page.fill('input[name=q]', target);
    await page.click('form.graph-search button');
    await page.waitForSelector(`#graph-view[data-focus="${target}"]`);
    const zoomed = await canvasShot(canvas);
    const centred = countColour(zoomed, asColour(southAsn), 3, centre);
    assert.ok(centred >= 0.9 * 81, `the middle of the view is ${target}'s AS colour: ${centred} of 81 px`);
    let changed = 0;
    for (let i = 0; i < shot.data.length; i += 4)
      if (!near(shot.data, i, [zoomed.data[i]!, zoomed.data[i + 1]!, zoomed.data[i + 2]!], 8)) changed++;
    assert.ok(changed > 0.05 * shot.width * shot.height, `the view changed: ${changed} px`);
    assert.equal(await page.textContent('.graph-info h2'), target);
    const facts = await page
      .locator('.graph-info dl')
      .evaluate((dl) => (dl as unknown as { innerText: string }).innerText);
    assert.match(facts, new RegExp(`AS\\s+AS${southAsn}`));
    assert.match(facts, new RegExp(`Organisation\\s+lab AS${southAsn}`));

    // One of its links, from the panel: the RTT step and the trace count the database holds.
    const linkButton = page.locator('.graph-links button').first();
    const [, dir, other] = /^([→←]) (\S+),/.exec((await linkButton.textContent())!)!;
    const [a, b] = dir === '→' ? [target, other!] : [other!, target];
    const row = (
      await pool.query<{ count: number; min: number; max: number }>(
        `select count::float8 as count, delta_min_us as min, delta_max_us as max from links where near = $1 and far = $2`,
        [a, b],
      )
    ).rows[0]!;
    await linkButton.click();
    assert.equal(await page.textContent('.graph-info h2'), 'Link');
    const linkFacts = await page
      .locator('.graph-info dl')
      .evaluate((dl) => (dl as unknown as { innerText: string }).innerText);
    assert.match(linkFacts, new RegExp(`From\\s+${a.replaceAll('.', '\\.')} \\(AS\\d+\\)`));
    assert.match(linkFacts, new RegExp(`To\\s+${b.replaceAll('.', '\\.')} \\(AS\\d+\\)`));
    assert.match(linkFacts, /RTT step\s+min -?[\d.]+ ms, mean -?[\d.]+ ms, max -?[\d.]+ ms/);
    assert.match(linkFacts, new RegExp(`Traces\\s+${row.count}\\b`));
    // The panel rounds to 0.01 ms below 10 ms and to 0.1 ms above: equal to the database's up to that rounding.
    const shown = /min (-?[\d.]+) ms/.exec(linkFacts)![1]!;
    const unit = 10 ** -(shown.split('.')[1]?.length ?? 0);
    assert.ok(
      Math.abs(Number(shown) - Math.round(row.min) / 1000) <= unit / 2 + 1e-9,
      `min step ${shown} ms is the database's ${row.min} µs`,
    );

    // An AS: the view goes to its group and the panel counts its addresses.
    await page.fill('input[name=q]', 'AS64501');
    await page.click('form.graph-search button');
    await page.waitForSelector('#graph-view[data-focus="AS64501"]');
    assert.match(
      await page.locator('.graph-info dl').evaluate((dl) => (dl as unknown as { innerText: string }).innerText),
      new RegExp(`Addresses\\s+${byAs.get(64501)!.length}\\b`),
    );
    await page.fill('input[name=q]', '203.0.113.99');
    await page.click('form.graph-search button');
    assert.match((await page.textContent('.graph-status'))!, /203\.0\.113\.99 is not in the map/);

    const bad = await page.request.get(`${manager.url}/api/map/graph-view?limit=0`);
    assert.equal(bad.status(), 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /query\.limit/);

    // A phone: the same map, no sideways scrolling.
    await page.setViewportSize({ width: 375, height: 740 });
    await page.reload();
    await waitForRender(page);
    assert.ok(
      await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1'),
      'no horizontal scroll at 375 px',
    );
    const phone = await canvasShot(canvas);
    for (const asn of byAs.keys()) assert.ok(countColour(phone, asColour(asn), 3) > 0, `AS${asn} shows at 375 px`);

    assert.deepEqual(scriptErrors, []);
    await page.close();
  });
});
