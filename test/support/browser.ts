import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'otplib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { assertDeclared, CHROMIUM } from './needs.js';

export { CHROMIUM };

/**
 * Debian's chromium driven by playwright-core (never a browser download), headless, with a profile of its
 * own and without the background services that would try to reach the internet.
 */
export async function launchBrowser(): Promise<{ browser: Browser; close(): Promise<void> }> {
  assertDeclared('chromium', 'launchBrowser');
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} not found: apt-get install chromium (Debian's package; .ci/run installs it)`,
  );
  // launch() makes a throwaway profile of its own; the temporary directory keeps crash dumps and caches out of $HOME.
  const profile = mkdtempSync(join(tmpdir(), 'hopmap-chromium-'));
  const browser = await chromium.launch({
    env: { ...process.env, HOME: profile },
    executablePath: CHROMIUM,
    headless: true,
    // WebGL (the map's graph page) on the CPU: ANGLE over SwiftShader, which chromium enables only when asked.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Both login steps of the manager in the page, from its login form, with the user's current TOTP code. */
export async function logInWithTotp(page: Page, managerUrl: string, name: string, secret: string): Promise<void> {
  await page.fill('input[name=name]', name);
  // Wait for the navigation together with the click that starts it, as for the second step.
  await Promise.all([page.waitForURL(/\/login\/totp$/), page.click('button[type=submit]')]);
  await page.fill('input[name=code]', await generate({ secret, epoch: Math.floor(Date.now() / 1000) }));
  // Wait for the navigation the click starts, and say what the page showed if it never reached the dashboard.
  await Promise.all([
    page.waitForURL(`${managerUrl}/`).catch(async (err: Error) => {
      throw new Error(
        `the login did not reach the dashboard; the page at ${page.url()} says: ${await page.textContent('main').catch(() => '?')}`,
        { cause: err },
      );
    }),
    page.click('button[type=submit]'),
  ]);
}
