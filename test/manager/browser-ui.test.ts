import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { inputService } from '../../src/input/input-service.js';
import { installedPlugins } from '../../src/cli/installed-plugins.js';
import { managerService } from '../../src/manager/manager-service.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { launchBrowser, logInWithTotp } from '../support/browser.js';
import { request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'chromium');

/** An `rgb()`/`rgba()` colour as the browser computes it: [r, g, b, alpha]. */
function parseColour(css: string): [number, number, number, number] {
  const m = /^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/.exec(css);
  assert.ok(m, `a computed colour: ${css}`);
  return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])];
}

/** WCAG 2 contrast ratio of two opaque colours. */
function contrast(a: readonly number[], b: readonly number[]): number {
  const luminance = (c: readonly number[]) => {
    const [r, g, bl] = c.slice(0, 3).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** In the page: the text colour of `selector` and the background colours of it and every ancestor, innermost first. */
const COLOURS_OF = (selector: string) => `(() => {
  const el = document.querySelector(${JSON.stringify(selector)});
  const layers = [];
  for (let e = el; e; e = e.parentElement) layers.push(getComputedStyle(e).backgroundColor);
  return { color: getComputedStyle(el).color, layers };
})()`;

// The operator's path through the manager in a real browser (Debian's chromium): log in with a TOTP code,
// see the dashboard, add a worker by URL, create and revoke an API key, log out.
describe('manager in a browser', { skip }, () => {
  const serverKey = randomBytes(32);
  let db: TestDatabase;
  let pool: Pool;
  let manager: RunningService;
  let input: RunningService;
  let chromium: Awaited<ReturnType<typeof launchBrowser>>;
  let browser: Browser;

  before(async () => {
    db = await createTestDatabase('manager_browser');
    pool = createPool(db.url, quietLog, { max: 2 });
    manager = await startService(managerService({ serverKey, plugins: installedPlugins }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
    input = await startService(
      inputService({ ipv6: false, allow: [], leaseTtlMs: 300_000, passCooldownMs: 3_600_000, maxBatch: 1000 }),
      { databaseUrl: db.url, host: '127.0.0.1', port: 0, name: 'input-browser', log: quietLog },
    );
    chromium = await launchBrowser();
    browser = chromium.browser;
  });

  after(async () => {
    await chromium?.close();
    await manager?.stop();
    await input?.stop();
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  it('logs in with a TOTP code, adds a worker by URL, creates and revokes an API key, and logs out', async () => {
    const { secret } = await addUser(pool, serverKey, 'ops');
    const page = await browser.newPage();
    const scriptErrors: string[] = [];
    page.on('pageerror', (e) => scriptErrors.push(e.message));

    await page.goto(`${manager.url}/`);
    assert.match(page.url(), /\/login$/, 'a visitor is sent to the login page');
    await logInWithTotp(page, manager.url, 'ops', secret);
    assert.match((await page.textContent('header'))!, /Log out ops/);
    // The log-out button is legible: its text against what it is drawn on reaches WCAG AA (4.5:1).
    const { color, layers } = await page.evaluate<{ color: string; layers: string[] }>(COLOURS_OF('header button'));
    let background: number[] = [255, 255, 255];
    for (const layer of layers.map(parseColour).reverse()) {
      const a = layer[3];
      background = background.map((v, i) => layer[i]! * a + v * (1 - a));
    }
    const ratio = contrast(parseColour(color), background);
    assert.ok(ratio >= 4.5, `log-out button: ${color} on ${JSON.stringify(background)} is ${ratio.toFixed(2)}:1`);
    assert.match((await page.textContent('main'))!, /Workers and services/);

    // A phone-sized window shows the same page without sideways scrolling.
    await page.setViewportSize({ width: 375, height: 740 });
    assert.ok(
      await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1'),
      'no horizontal scroll at 375 px',
    );
    await page.setViewportSize({ width: 1280, height: 800 });

    await page.click('nav >> text=Workers');
    await page.fill('input[name=url]', input.url);
    await Promise.all([
      page.waitForURL(/\/workers\?added=/),
      page.click('form[action="/workers"] button[type=submit]'),
    ]);
    assert.match(
      (await page.textContent('main'))!,
      /Registered input-browser \(input\)/,
      'the flash names the detected type',
    );
    const row = page.locator('tbody tr', { hasText: 'input-browser' });
    assert.equal(await row.count(), 1, await page.content());
    assert.match((await row.textContent())!, /input/);

    await page.click('nav >> text=API keys');
    await page.fill('form[action="/api-keys"] input[name=name]', 'pi-kitchen');
    await page.click('form[action="/api-keys"] button[type=submit]');
    const shown = (await page.textContent('section.new-key'))!;
    const key = /hm_[A-Za-z0-9_-]{20,}/.exec(shown)?.[0];
    assert.ok(key, `the new key is shown once: ${shown}`);
    const asWorker = { headers: { authorization: `Bearer ${key}`, 'x-consumer-id': 'pi-kitchen' } };
    assert.equal(
      (await request(`${manager.url}/gateway/targets?n=1`, asWorker)).status,
      200,
      'the key opens the gateway',
    );

    await page.goto(`${manager.url}/api-keys`);
    assert.ok(!(await page.content()).includes(key), 'the key is never shown again');
    await Promise.all([
      page.waitForEvent('load'),
      page.locator('tbody tr', { hasText: 'pi-kitchen' }).locator('button', { hasText: 'Revoke' }).click(),
    ]);
    assert.match((await page.locator('tbody tr', { hasText: 'pi-kitchen' }).textContent())!, /revoked/i);
    assert.equal(
      (await request(`${manager.url}/gateway/targets?n=1`, asWorker)).status,
      401,
      'a revoked key is refused at once',
    );

    await Promise.all([page.waitForURL(/\/login/), page.click('header button:has-text("Log out")')]);
    await page.goto(`${manager.url}/workers`);
    assert.match(page.url(), /\/login$/, 'after logout the pages need a login again');
    assert.deepEqual(scriptErrors, []);
    await page.close();
  });
});
