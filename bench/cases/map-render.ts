import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { createLogger } from '../../src/log/create-logger.js';
import { installedPlugins } from '../../src/manager/installed-plugins.js';
import { managerService } from '../../src/manager/manager-service.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { startService } from '../../src/service/start-service.js';
import { launchBrowser, logInWithTotp } from '../../test/support/browser.js';
import type { BenchCase, Figure } from '../bench-case.js';
import { formatCount, formatMs } from '../bench-table.js';

export const MAP_RENDER = 'map-render';
const NODES = 100_000;
/** Addresses per AS: 500 ASes, the size of a large transit network's interfaces each. */
const AS_BLOCK = 200;
const RUNS = 3;
const PAN_MOVES = 60;
const SEEDED = 'links, address_info';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Rendered {
  renderedAt: number;
  fetchMs: number;
  buildMs: number;
  sigmaMs: number;
  nodes: number;
  links: number;
}

async function openGraph(page: Page, url: string): Promise<Rendered> {
  await page.goto(`${url}/map/graph`);
  await page.waitForSelector('#graph-view[data-rendered-at], #graph-view[data-error]', { timeout: 10 * 60_000 });
  const d = await page.locator('#graph-view').evaluate((e) => ({ ...(e as unknown as { dataset: Record<string, string> }).dataset }));
  if (d.error) throw new Error(`${MAP_RENDER}: the graph page failed: ${d.error}`);
  return { renderedAt: Number(d.renderedAt), fetchMs: Number(d.fetchMs), buildMs: Number(d.buildMs), sigmaMs: Number(d.sigmaMs), nodes: Number(d.renderedNodes), links: Number(d.renderedLinks) };
}

/** The baseline: the same graph over the keyset API (/api/map/graph, pages of 10,000), fetched and parsed in the page. */
function keysetFetchParse(page: Page): Promise<{ ms: number; links: number }> {
  return page.evaluate(async () => {
    const t = performance.now();
    let links = 0;
    let cursor: string | null = '';
    while (cursor !== null) {
      const res = await fetch(`/api/map/graph?limit=10000${cursor ? `&cursor=${cursor}` : ''}`);
      const body = (await res.json()) as { links: unknown[]; next: string | null };
      links += body.links.length;
      cursor = body.next;
    }
    return { ms: performance.now() - t, links };
  });
}

/** Frames sigma drew per second while the mouse drags the view across the canvas. */
async function panFps(page: Page): Promise<number> {
  const box = (await page.locator('.graph-canvas').boundingBox())!;
  const renders = async () => Number(await page.locator('#graph-view').getAttribute('data-renders'));
  const now = () => page.evaluate(() => performance.now());
  const [r0, t0] = [await renders(), await now()];
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= PAN_MOVES; i++) {
    const a = (i / PAN_MOVES) * 2 * Math.PI;
    await page.mouse.move(box.x + box.width / 2 + 150 * Math.sin(a), box.y + box.height / 2 + 100 * Math.sin(2 * a));
  }
  await page.mouse.up();
  const [r1, t1] = [await renders(), await now()];
  return ((r1 - r0) * 1000) / (t1 - t0);
}

/**
 * The graph page (src/map/pages/graph-page-*.ts) at 100,000 nodes: seeds 100,000 addresses in 500 ASes and
 * 100,000 links (nine in ten to a near address of the same AS, one in ten anywhere), then in Debian's chromium
 * (WebGL on SwiftShader, the CPU) times navigation to the first frame with every node drawn, against the
 * baseline of fetching and parsing the same graph over the keyset API in the page (what a page built on
 * /api/map/graph would pay before drawing anything); and frames per second while dragging the view.
 */
export const mapRender: BenchCase = {
  name: MAP_RENDER,
  async run(ctx) {
    const pool = new pg.Pool({ connectionString: ctx.db.url, max: 2, application_name: 'hopmap-bench' });
    const log = createLogger({ level: 'warn', pretty: false });
    const serverKey = randomBytes(32);
    let manager: Awaited<ReturnType<typeof startService>> | undefined;
    let chromium: Awaited<ReturnType<typeof launchBrowser>> | undefined;
    try {
      ctx.progress(`${MAP_RENDER}: seeding ${formatCount(NODES)} addresses and links`);
      await pool.query(`truncate ${SEEDED}`);
      await pool.query(
        `insert into address_info (address, kind, asn, as_org, country, data_version, source)
         select '10.0.0.0'::inet + i, 'public', 64512 + i / $2, 'Bench AS ' || (64512 + i / $2), 'DE', 'bench', 'ip-location-db'
           from generate_series(0, $1 - 1) i`,
        [NODES, AS_BLOCK],
      );
      await pool.query(
        `insert into links (near, far, first_seen_at, last_seen_at, count, delta_min_us, delta_max_us, delta_sum_us)
         select '10.0.0.0'::inet + i, '10.0.0.0'::inet + (case when i % 10 = 0 then (i * 7919 + 13) % $1 else (i + 1 + i % 3) % $1 end),
                now() - interval '1 day', now(), 1 + i % 50, 100 + i % 700, 900 + i % 5000, (1 + i % 50) * (500.0 + i % 900)
           from generate_series(0, $1 - 1) i
         on conflict do nothing`,
        [NODES],
      );
      await pool.query('analyze links, address_info');

      manager = await startService(managerService({ serverKey, plugins: installedPlugins, apiRequestsPerMinute: 10_000_000 }), { databaseUrl: ctx.db.url, host: '127.0.0.1', port: 0, log });
      const { secret } = await addUser(pool, serverKey, 'bench');
      chromium = await launchBrowser();
      const page = await chromium.browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${manager.url}/login`);
      await logInWithTotp(page, manager.url, 'bench', secret);

      ctx.progress(`${MAP_RENDER}: a warm-up load (bundles the page's script), then ${RUNS} timed loads`);
      await openGraph(page, manager.url);
      const loads: Rendered[] = [];
      const keyset: { ms: number; links: number }[] = [];
      for (let i = 0; i < RUNS; i++) {
        ctx.signal.throwIfAborted();
        loads.push(await openGraph(page, manager.url));
        keyset.push(await keysetFetchParse(page));
      }
      ctx.progress(`${MAP_RENDER}: panning`);
      const fps = await panFps(page);

      const mid = (f: (r: Rendered) => number) => median(loads.map(f));
      const { nodes, links } = loads[0]!;
      const baseline: Figure = {
        id: `${MAP_RENDER}/keyset-json`,
        label: `fetch + parse the same graph via /api/map/graph, ${keyset[0]!.links / 10_000} keyset pages, in chromium`,
        value: median(keyset.map((k) => k.ms)),
        unit: 'ms',
        details: `${formatCount(keyset[0]!.links)} links, median of ${RUNS}`,
      };
      const first: Figure = {
        id: `${MAP_RENDER}/first-render`,
        label: `graph page: navigation to first frame of all ${formatCount(nodes)} nodes`,
        value: mid((r) => r.renderedAt),
        unit: 'ms',
        baseline: baseline.id,
        details: `fetched + parsed at ${formatMs(mid((r) => r.fetchMs))}, graph built in ${formatMs(mid((r) => r.buildMs))}, sigma ${formatMs(mid((r) => r.sigmaMs))}; ${formatCount(links)} links; median of ${RUNS}`,
        data: { loads },
      };
      const pan: Figure = { id: `${MAP_RENDER}/pan-fps`, label: 'graph page: frames drawn per second while dragging the view', value: fps, unit: 'frames/s', details: `${PAN_MOVES} mouse moves; links hidden while moving` };
      return {
        figures: [baseline, first, pan],
        notes: [
          `${MAP_RENDER}: ${formatCount(nodes)} addresses in ${NODES / AS_BLOCK} ASes, ${formatCount(links)} links, in Debian's chromium headless with WebGL on SwiftShader (no GPU), 1280×800. ` +
            'First render: from navigation start (performance.now() in the page) to the frame after sigma first drew every node; it includes the page, the script, /api/map/graph-view and the layout. ' +
            'Baseline: only fetching and parsing the same links over the keyset API, which a page built on it would need before drawing anything.',
        ],
      };
    } finally {
      await chromium?.close();
      await manager?.stop();
      await pool.query(`truncate ${SEEDED}`).catch(() => undefined);
      await pool.end();
    }
  },
};
