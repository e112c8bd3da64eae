import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Express } from 'express';
import { PROJECT_ROOT } from '../../version.js';

const CLIENT_DIR = join(PROJECT_ROOT, 'src/map/client');

export interface Asset {
  /** Versioned by a hash of the content, so it can be cached for good. */
  url: string;
  type: string;
  body: Buffer;
}

export interface GraphPageAssets {
  script: Asset;
  style: Asset;
}

const asset = (name: string, ext: string, type: string, body: Buffer): Asset => ({
  url: `/map/assets/${name}.${createHash('sha256').update(body).digest('hex').slice(0, 12)}.${ext}`,
  type,
  body,
});

/**
 * The page's script, src/map/client bundled with sigma and graphology by esbuild (about 1 s, once per process,
 * on the first request that needs it), and its stylesheet. Nothing comes from a CDN.
 */
async function buildAssets(): Promise<GraphPageAssets> {
  // esbuild is loaded only here: a manager nobody opens the graph page of never pays for it.
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [join(CLIENT_DIR, 'graph-page-main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020'],
    minify: true,
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = Buffer.from(out.outputFiles[0]!.contents);
  const css = await readFile(join(CLIENT_DIR, 'graph-page.css'));
  return {
    script: asset('graph-page', 'js', 'text/javascript; charset=utf-8', js),
    style: asset('graph-page', 'css', 'text/css; charset=utf-8', css),
  };
}

let built: Promise<GraphPageAssets> | undefined;

/** The bundle, built once per process; a failed build is tried again on the next request. */
export function graphPageAssets(): Promise<GraphPageAssets> {
  built ??= buildAssets().catch((err: unknown) => {
    built = undefined;
    throw err;
  });
  return built;
}

/** GET /map/assets/<name>.<hash>.<ext>: public (no session), cached for a year since the URL changes with the content. */
export function graphPageAssetRoutes(app: Express): void {
  app.get('/map/assets/:file', async (req, res) => {
    const assets = await graphPageAssets();
    const a = [assets.script, assets.style].find((x) => x.url === `/map/assets/${req.params.file}`);
    if (!a) return void res.status(404).json({ error: { code: 'not_found', message: `no asset ${req.params.file}` } });
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.type(a.type).send(a.body);
  });
}
