import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { installedPlugins } from '../../src/cli/installed-plugins.js';
import { managerService } from '../../src/manager/manager-service.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { launchBrowser, logInWithTotp } from '../support/browser.js';
import { postJson, request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { traceResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'chromium');

// pngjs ships without types; it is here as a dependency of qrcode.
const { PNG } = createRequire(import.meta.url)('pngjs') as {
  PNG: { sync: { read(png: Buffer): { width: number; height: number; data: Buffer } } };
};

const MIN = 60_000;
const T = '198.19.9.9';
const VIA_B = ['198.18.0.2', '198.18.0.6', '198.18.0.10', T];
const VIA_C = ['198.18.0.2', '198.18.0.14', null, '198.18.0.22', T];
/** `tr.hop-diff td` in manager.css. */
const HIGHLIGHT = [0xff, 0xd2, 0x4d];

const cells = (page: Page, rows: string) =>
  page
    .locator(rows)
    .evaluateAll((trs) =>
      trs.map((tr) =>
        [...tr.querySelectorAll('td')]
          .map((td) => td.textContent!.trim())
          .concat(tr.classList.contains('hop-diff') ? ['DIFF'] : []),
      ),
    );

describe('path explorer and route-change timeline in a browser', { skip }, () => {
  const serverKey = randomBytes(32);
  let db: TestDatabase;
  let pool: Pool;
  let manager: RunningService;
  let output: RunningService;
  let chromium: Awaited<ReturnType<typeof launchBrowser>>;
  let browser: Browser;

  before(async () => {
    db = await createTestDatabase('path_pages');
    pool = createPool(db.url, quietLog, { max: 2 });
    output = await startService(outputService({ ...outputWiring, auth: 'off' }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    manager = await startService(managerService({ serverKey, plugins: installedPlugins }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    // w1's route to T moves from B to C (with a silent TTL 3) at minute 2; w2 traces T once and never changes.
    const posts = [
      traceResult(T, VIA_B, { worker: 'w1', atMs: 0 }),
      traceResult(T, VIA_B, { worker: 'w1', atMs: MIN }),
      traceResult(T, VIA_C, { worker: 'w1', atMs: 2 * MIN }),
      traceResult(T, VIA_C, { worker: 'w1', atMs: 3 * MIN }),
      traceResult(T, VIA_B, { worker: 'w2', atMs: 0 }),
    ];
    for (const r of posts) assert.equal((await postJson(`${output.url}/results`, r)).status, 200);
    await pool.query(
      `insert into address_info (address, kind, asn, as_org, country, data_version) values
         ('198.18.0.2', 'public', 64500, 'Example Transit', 'US', 'test'),
         ('198.18.0.14', 'public', 64501, 'Other Net', 'DE', 'test'),
         ('198.18.0.22', 'private', null, null, null, 'test')`,
    );
    chromium = await launchBrowser();
    browser = chromium.browser;
  });

  after(async () => {
    await chromium?.close();
    await manager?.stop();
    await output?.stop();
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  it('needs a signed-in user', async () => {
    const res = await request(`${manager.url}/paths?worker=w1&target=${T}`, {
      headers: { 'x-forwarded-for': '198.51.100.40' },
    });
    assert.ok(res.status >= 300 && res.status < 400, `status ${res.status}`);
    assert.match(String(res.headers.location), /\/login$/);
  });

  it('shows the current path hop by hop with its AS, the change with the differing hops highlighted, and the timeline linking back', async () => {
    const { secret } = await addUser(pool, serverKey, 'ops');
    const page = await browser.newPage();
    const scriptErrors: string[] = [];
    page.on('pageerror', (e) => scriptErrors.push(e.message));
    await page.goto(`${manager.url}/login`);
    await logInWithTotp(page, manager.url, 'ops', secret);

    await page.click('nav >> text=Paths');
    assert.deepEqual(
      await page.locator('select[name=worker] option').allTextContents(),
      ['choose…', 'w1', 'w2'],
      'the workers that have routes',
    );
    await page.selectOption('select[name=worker]', 'w1');
    await page.fill('input[name=target]', T);
    await Promise.all([page.waitForURL(/\/paths\?worker=w1&target=/), page.click('form.pick button[type=submit]')]);
    assert.equal(await page.textContent('h1'), `Paths from w1 to ${T}`);

    const route = page.locator('section.route');
    assert.equal(await route.count(), 1);
    assert.equal(await route.locator('h2').textContent(), 'icmp-paris, flow 4242');
    assert.match(
      (await route.locator('p').first().textContent())!,
      /On this path since 2026-11-23 01:02:00 UTC, last seen 2026-11-23 01:03:00 UTC, 2 observations\./,
    );
    assert.deepEqual(await cells(page, 'table.path tbody tr'), [
      ['1', '198.18.0.2', 'AS64500', 'Example Transit', 'US'],
      ['2', '198.18.0.14', 'AS64501', 'Other Net', 'DE'],
      ['3', '*', '', '', ''],
      ['4', '198.18.0.22', '', '', ''],
      ['5', T, '', '', ''],
    ]);

    const change = page.locator('article.change');
    assert.equal(await change.count(), 1, 'one change: B to C');
    assert.match((await change.locator('p').textContent())!, /2026-11-23 01:02:00 UTC: the paths part at TTL 2\./);
    assert.deepEqual(await cells(page, 'article.change table.diff tbody tr'), [
      ['1', '198.18.0.2', '198.18.0.2'],
      ['2', '198.18.0.6', '198.18.0.14', 'DIFF'],
      ['3', '198.18.0.10', '*', 'DIFF'],
      ['4', T, '198.18.0.22', 'DIFF'],
      ['5', '', T, 'DIFF'],
    ]);
    const bg = await page
      .locator('tr.hop-diff td')
      .first()
      .evaluate(
        (td) =>
          (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(td)
            .backgroundColor,
      );
    assert.equal(bg, `rgb(${HIGHLIGHT.join(', ')})`, 'the differing hop is highlighted');

    const png = PNG.sync.read(await page.screenshot({ fullPage: true }));
    const colours = new Set<number>();
    let highlighted = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      const [r, g, b] = [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
      colours.add((r << 16) | (g << 8) | b);
      if (Math.abs(r - HIGHLIGHT[0]!) <= 2 && Math.abs(g - HIGHLIGHT[1]!) <= 2 && Math.abs(b - HIGHLIGHT[2]!) <= 2)
        highlighted++;
    }
    assert.ok(
      highlighted > 2_000,
      `the highlight shows in the screenshot: ${highlighted} pixels of ${png.width}x${png.height}`,
    );
    assert.ok(colours.size > 50, `not blank: ${colours.size} colours`);

    await page.setViewportSize({ width: 375, height: 740 });
    assert.ok(
      await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1'),
      'no horizontal scroll at 375 px',
    );
    await page.setViewportSize({ width: 1280, height: 800 });

    await page.goto(`${manager.url}/changes?since=2026-11-23T00:00:00Z`);
    assert.deepEqual(await page.locator('section.hour h2').allTextContents(), ['2026-11-23 01:00 UTC']);
    const items = await page.locator('ul.changes li').allTextContents();
    assert.equal(items.length, 1, items.join('\n'));
    assert.match(
      items[0]!,
      new RegExp(`2026-11-23 01:02:00 UTC w1 → ${T.replaceAll('.', '\\.')} icmp-paris, flow 4242: paths part at TTL 2`),
    );
    await Promise.all([page.waitForURL(/\/paths\?worker=w1&target=/), page.click('ul.changes li a')]);
    assert.equal(await page.textContent('h1'), `Paths from w1 to ${T}`);
    assert.equal(await page.locator('article.change').count(), 1);

    await page.goto(`${manager.url}/changes?since=2026-11-23T01:03:00Z`);
    assert.equal(await page.locator('ul.changes li').count(), 0, 'a later since leaves the change out');

    const bad = await page.goto(`${manager.url}/paths?worker=w1&target=not-an-ip`);
    assert.equal(bad?.status(), 400);
    assert.match((await page.textContent('.flash.error'))!, /query\.target: not an IPv4 or IPv6 address/);
    assert.equal(await page.inputValue('input[name=target]'), 'not-an-ip', 'what was typed stays in the form');
    const badSince = await page.goto(`${manager.url}/changes?since=yesterday`);
    assert.equal(badSince?.status(), 400);
    assert.match((await page.textContent('.flash.error'))!, /query\.since/);

    assert.deepEqual(scriptErrors, []);
    await page.close();
  });
});
