import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { createLogger } from '../../src/log/create-logger.js';
import { installedPlugins } from '../../src/cli/installed-plugins.js';
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
/** Wheel notches each way between turns: 1.7 per notch, so the view goes from the whole map to 14× and back. */
const WHEEL_NOTCHES = 5;
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

async function openGraph(page: Page, url: string, query = ''): Promise<Rendered> {
  await page.goto(`${url}/map/graph${query}`);
  await page.waitForSelector('#graph-view[data-rendered-at], #graph-view[data-error]', { timeout: 10 * 60_000 });
  const d = await page
    .locator('#graph-view')
    .evaluate((e) => ({ ...(e as unknown as { dataset: Record<string, string> }).dataset }));
  if (d.error) throw new Error(`${MAP_RENDER}: the graph page failed: ${d.error}`);
  return {
    renderedAt: Number(d.renderedAt),
    fetchMs: Number(d.fetchMs),
    buildMs: Number(d.buildMs),
    sigmaMs: Number(d.sigmaMs),
    nodes: Number(d.renderedNodes),
    links: Number(d.renderedLinks),
  };
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

interface Motion {
  /** Frames the page produced per second (requestAnimationFrame callbacks): what the user sees. */
  fps: number;
  /** Frames sigma drew per second (it draws when the camera changed). */
  drawsPerSecond: number;
  seconds: number;
  /** After a drag: from the release to the next frame drawn with the camera still (links back). */
  settleMs?: number;
}

/**
 * Runs in the page (a string: the project's tsconfig has no DOM library). Input is dispatched from inside the
 * page on every frame, as a mouse would send it, so the figure is the page's own frame rate and not the pace
 * of the DevTools protocol on a loaded machine. `drag`: the view dragged around a figure eight, then released;
 * `wheel`: a wheel notch every 100 ms, WHEEL_NOTCHES in, then as many out, over and over.
 */
const MOTION_IN_PAGE = `async ({ kind, seconds, notches }) => {
  const root = document.getElementById('graph-view');
  // sigma listens on its own top layer: events sent to the container would not reach it.
  const box = root.querySelector('.graph-canvas .sigma-mouse');
  const r = box.getBoundingClientRect();
  const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
  const mouse = (target, type, x, y) => target.dispatchEvent(new MouseEvent(type, { clientX: x, clientY: y, bubbles: true, cancelable: true, button: 0, buttons: type === 'mouseup' ? 0 : 1 }));
  const renders = () => Number(root.dataset.renders);
  const r0 = renders();
  const t0 = performance.now();
  let frames = 0, notch = 0, lastWheel = -1e9;
  if (kind === 'drag') mouse(box, 'mousedown', cx, cy);
  await new Promise((done) => {
    const frame = (now) => {
      frames++;
      const ms = now - t0;
      if (ms >= seconds * 1000) return done();
      if (kind === 'drag') {
        const a = (ms / 2000) * 2 * Math.PI;
        mouse(document, 'mousemove', cx + 150 * Math.sin(a), cy + 100 * Math.sin(2 * a));
      } else if (now - lastWheel >= 100) {
        lastWheel = now;
        const deltaY = Math.floor(notch++ / notches) % 2 === 0 ? -120 : 120;
        box.dispatchEvent(new WheelEvent('wheel', { deltaY, deltaMode: 0, clientX: cx, clientY: cy, bubbles: true, cancelable: true }));
      }
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
  const t1 = performance.now();
  const out = { fps: (frames * 1000) / (t1 - t0), drawsPerSecond: ((renders() - r0) * 1000) / (t1 - t0), seconds: (t1 - t0) / 1000 };
  if (kind !== 'drag') return out;
  const upAt = performance.now();
  mouse(document, 'mouseup', cx, cy);
  const still = await new Promise((done) => {
    // NaN when no still frame came within 5 minutes (the figure then says so rather than a made-up time).
    const check = () => (Number(root.dataset.stillAt) > upAt ? done(Number(root.dataset.stillAt)) : performance.now() - upAt > 300000 ? done(NaN) : setTimeout(check, 5));
    check();
  });
  return { ...out, settleMs: still - upAt };
}`;

const motion = (page: Page, kind: 'drag' | 'wheel', seconds: number) =>
  page.evaluate<Motion>(`(${MOTION_IN_PAGE})(${JSON.stringify({ kind, seconds, notches: WHEEL_NOTCHES })})`);

interface Smoothness {
  pan: Motion;
  zoom: Motion;
}

async function smoothness(page: Page, url: string, query: string, seconds: number): Promise<Smoothness> {
  await openGraph(page, url, query);
  await page.waitForTimeout(500);
  const pan = await motion(page, 'drag', seconds);
  await page.waitForTimeout(1000);
  const zoom = await motion(page, 'wheel', seconds);
  return { pan, zoom };
}

/**
 * The graph page (src/map/pages/graph-page-*.ts) at 100,000 nodes: seeds 100,000 addresses in 500 ASes and
 * 100,000 links (nine in ten to a near address of the same AS, one in ten anywhere), then in Debian's chromium
 * (WebGL on SwiftShader, the CPU) times navigation to the first frame with every node drawn, against the
 * baseline of fetching and parsing the same graph over the keyset API in the page (what a page built on
 * /api/map/graph would pay before drawing anything); and frames per second while dragging and wheel-zooming the
 * view and the time from releasing a drag to the next still frame, against the same page with ?smooth=off.
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

      manager = await startService(
        managerService({ serverKey, plugins: installedPlugins, apiRequestsPerMinute: 10_000_000 }),
        { databaseUrl: ctx.db.url, host: '127.0.0.1', port: 0, log },
      );
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
      ctx.progress(
        `${MAP_RENDER}: dragging and wheel-zooming for ${ctx.seconds} s each, as the page drew before (?smooth=off) and now`,
      );
      const before = await smoothness(page, manager.url, '?smooth=off', ctx.seconds);
      const after = await smoothness(page, manager.url, '', ctx.seconds);

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
      const draws = (m: Motion) => `sigma drew ${m.drawsPerSecond.toFixed(1)}/s over ${m.seconds.toFixed(1)} s`;
      const panBefore: Figure = {
        id: `${MAP_RENDER}/pan-fps-before`,
        label: 'frames/s while dragging the view, as drawn before (?smooth=off)',
        value: before.pan.fps,
        unit: 'frames/s',
        details: `${draws(before.pan)}; all nodes, picking pass, links hidden`,
      };
      const pan: Figure = {
        id: `${MAP_RENDER}/pan-fps`,
        label: 'frames/s while dragging the view',
        value: after.pan.fps,
        unit: 'frames/s',
        baseline: panBefore.id,
        details: `${draws(after.pan)}; ${formatCount(20_000)} of the nodes, no picking pass, no links while moving`,
      };
      const zoomBefore: Figure = {
        id: `${MAP_RENDER}/zoom-fps-before`,
        label: 'frames/s while wheel-zooming, as drawn before',
        value: before.zoom.fps,
        unit: 'frames/s',
        details: draws(before.zoom),
      };
      const zoom: Figure = {
        id: `${MAP_RENDER}/zoom-fps`,
        label: 'frames/s while wheel-zooming',
        value: after.zoom.fps,
        unit: 'frames/s',
        baseline: zoomBefore.id,
        details: draws(after.zoom),
      };
      const settleBefore: Figure = {
        id: `${MAP_RENDER}/settle-before`,
        label: 'release of a drag to the next frame drawn still, as before',
        value: before.pan.settleMs!,
        unit: 'ms',
        better: 'lower',
        details: 'sigma re-indexes the whole graph to bring links back',
      };
      const settle: Figure = {
        id: `${MAP_RENDER}/settle`,
        label: 'release of a drag to the next frame drawn still',
        value: after.pan.settleMs!,
        unit: 'ms',
        better: 'lower',
        baseline: settleBefore.id,
        details: 'zoomed out: the links between ASes only',
      };
      return {
        figures: [baseline, first, panBefore, pan, zoomBefore, zoom, settleBefore, settle],
        notes: [
          `${MAP_RENDER}: ${formatCount(nodes)} addresses in ${NODES / AS_BLOCK} ASes, ${formatCount(links)} links, in Debian's chromium headless with WebGL on SwiftShader (no GPU), 1280×800. ` +
            'First render: from navigation start (performance.now() in the page) to the frame after sigma first drew every node; it includes the page, the script, /api/map/graph-view and the layout. ' +
            'Baseline: only fetching and parsing the same links over the keyset API, which a page built on it would need before drawing anything.',
          `${MAP_RENDER}: frames/s: requestAnimationFrame callbacks in the page while input dispatched in the page on every frame drags the view around a figure eight, ` +
            `or turns the wheel a notch every 100 ms (${WHEEL_NOTCHES} in, ${WHEEL_NOTCHES} out), for ${ctx.seconds} s each; "before" is the same page with ?smooth=off (the settings it had before, kept as this baseline).`,
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
