import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { LabRun } from '../../src/lab/lab-run.js';
import { installedPlugins } from '../../src/cli/installed-plugins.js';
import { managerService } from '../../src/manager/manager-service.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { enrichPendingHops } from '../../src/map/enrich/enrich-hops-task.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import {
  cutLinkUnderRoute,
  drillPlace,
  removeDrill,
  ROUTE_CHANGE,
  startDrill,
  type DrillPlace,
} from '../lab/lab-drill.js';
import { launchBrowser, logInWithTotp } from '../support/browser.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'root', 'ip', 'chromium');

// pngjs ships without types; it is here as a dependency of qrcode.
const { PNG } = createRequire(import.meta.url)('pngjs') as {
  PNG: { sync: { read(png: Buffer): { width: number; height: number; data: Buffer } } };
};

/** `tr.hop-diff td` in manager.css. */
const HIGHLIGHT = [0xff, 0xd2, 0x4d];
const { vantage: VANTAGE, target: TARGET } = ROUTE_CHANGE;

const cells = (page: Page, rows: string) =>
  page
    .locator(rows)
    .evaluateAll((trs) =>
      trs.map((tr) =>
        [...(tr.querySelectorAll('td') as unknown as Iterable<{ textContent: string | null }>)]
          .map((td) => td.textContent!.trim())
          .concat(tr.classList.contains('hop-diff') ? ['DIFF'] : []),
      ),
    );

/** Pixels of the highlight colour in a PNG screenshot. */
function highlightedPixels(png: Buffer): number {
  const { data } = PNG.sync.read(png);
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (
      Math.abs(data[i]! - HIGHLIGHT[0]!) <= 2 &&
      Math.abs(data[i + 1]! - HIGHLIGHT[1]!) <= 2 &&
      Math.abs(data[i + 2]! - HIGHLIGHT[2]!) <= 2
    )
      n++;
  }
  return n;
}

describe('path explorer on a lab: a link goes down and the page shows the new route', { skip }, () => {
  const serverKey = randomBytes(32);
  let db: TestDatabase;
  let place: DrillPlace;
  let run: LabRun | undefined;
  let manager: RunningService | undefined;
  let chromium: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  before(async () => {
    place = await drillPlace('tpathex');
    db = await createTestDatabase('path_explorer_lab');
  });
  after(async () => {
    await chromium?.close();
    await manager?.stop();
    await removeDrill(place, run);
    await db?.drop();
    await assertNoLeaks();
  });

  it(`after ${ROUTE_CHANGE.link.join(' - ')} goes down, /paths shows ${VANTAGE} → t2 on the new path, the change highlighted and the old path in its history`, async () => {
    run = await startDrill(place, { serverUrl: db.adminUrl, database: db.name });
    // An operator signed in to the manager on the run's database while the lab maps.
    manager = await startService(managerService({ serverKey, plugins: installedPlugins }), {
      databaseUrl: run.databaseUrl,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    const { secret } = await addUser(run.pool, serverKey, 'ops');
    chromium = await launchBrowser();
    const page = await chromium.browser.newPage({ viewport: { width: 1280, height: 800 } });
    const scriptErrors: string[] = [];
    page.on('pageerror', (e) => scriptErrors.push(e.message));
    await page.goto(`${manager.url}/login`);
    await logInWithTotp(page, manager.url, 'ops', secret);

    const { truthBefore, truthAfter } = await cutLinkUnderRoute(run);
    // What the output's enrich_hops job does within a minute, done now: the hops get the lab's declared ASes.
    await enrichPendingHops(run.pool, { maxBatches: Number.MAX_SAFE_INTEGER });
    const asOf = (address: string) => run!.lab.plan.nodes.get(run!.lab.truth().nodeOf(address)!)!.as!;

    await page.click('nav >> text=Paths');
    await page.selectOption('select[name=worker]', VANTAGE);
    await page.fill('input[name=target]', TARGET);
    await Promise.all([page.waitForURL(/\/paths\?worker=v2&target=/), page.click('form.pick button[type=submit]')]);
    assert.equal(await page.textContent('h1'), `Paths from ${VANTAGE} to ${TARGET}`);

    // The multipath route is on the new path now, hop by hop, each router with the lab's AS (enrichment covers hops,
    // not the targets themselves).
    const route = page.locator('section.route[data-flow="-1"]');
    assert.equal(await route.count(), 1);
    const current = await cells(page, 'section.route[data-flow="-1"] table.path tbody tr');
    assert.deepEqual(
      current.map((r) => r.slice(0, 2)),
      truthAfter.map((a, i) => [String(i + 1), a ?? '*']),
    );
    assert.deepEqual(
      current.slice(0, -1).map((r) => r.slice(1)),
      truthAfter.slice(0, -1).map((a) => [a!, `AS${asOf(a!)}`, `lab AS${asOf(a!)}`, '']),
    );
    assert.notDeepEqual(
      current.map((r) => r[1]),
      truthBefore.map((a) => a ?? '*'),
      'the current path is not the old one',
    );

    // Its history: the change from the old path to the new, the TTLs that differ highlighted.
    const changes = route.locator('article.change');
    assert.ok((await changes.count()) >= 1 && (await changes.count()) <= 2, `${await changes.count()} changes`);
    const newest = await cells(page, 'section.route[data-flow="-1"] article.change >> nth=0 >> table.diff tbody tr');
    const oldest = await cells(page, 'section.route[data-flow="-1"] article.change >> nth=-1 >> table.diff tbody tr');
    const hop = (seq: Array<string | null>, i: number) => (i >= seq.length ? '' : (seq[i] ?? '*'));
    assert.deepEqual(
      newest.map((r) => r[2]),
      truthAfter.map((a) => a ?? '*'),
      'the newest change ends on the new path',
    );
    assert.deepEqual(
      oldest.map((r) => r[1]).filter((h) => h !== ''),
      truthBefore.map((a) => a ?? '*'),
      'the first change starts on the old path',
    );
    if ((await changes.count()) === 1) {
      const ttls = Math.max(truthBefore.length, truthAfter.length);
      assert.deepEqual(
        newest,
        Array.from({ length: ttls }, (_, i) => {
          const row = [String(i + 1), hop(truthBefore, i), hop(truthAfter, i)];
          return row[1] === row[2] ? row : [...row, 'DIFF'];
        }),
      );
      assert.match((await changes.locator('p').textContent())!, /the paths part at TTL 2\./);
    }
    assert.equal(newest[0]!.length, 3, 'the first hop, ee1, is the same on both paths');

    const png = await route.screenshot();
    const highlighted = highlightedPixels(png);
    const diffRows = newest.filter((r) => r.at(-1) === 'DIFF').length;
    assert.ok(diffRows >= 3, `${diffRows} differing TTLs`);
    assert.ok(
      highlighted > 1_000 * diffRows,
      `the differing hops are highlighted in the screenshot: ${highlighted} pixels`,
    );
    console.log(
      `${await changes.count()} change(s) shown; ${diffRows} differing TTLs; ${highlighted} highlighted pixels`,
    );
    const pathPng = await route.locator('table.path').screenshot();
    assert.equal(highlightedPixels(pathPng), 0, 'the current path itself is not highlighted');

    assert.deepEqual(scriptErrors, []);
    await page.close();
  });
});
