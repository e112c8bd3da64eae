import { html } from '../../web/html.js';
import { layout, type PageContext } from '../../web/layout.js';
import { dataCreditHtml } from '../enrich/data-credit.js';
import type { GraphPageAssets } from './graph-page-assets.js';

/**
 * GET /map/graph: the frame the script fills. The data comes over fetch from `data-src` (the CSP allows no
 * inline script); without JavaScript or WebGL the page says so.
 */
export function renderGraphPage(ctx: PageContext, assets: GraphPageAssets): string {
  return layout(
    { ...ctx, footer: dataCreditHtml() },
    html`<link rel="stylesheet" href="${assets.style.url}">
<div id="graph-view" class="graph-view">
<div class="graph-canvas" data-src="/api/map/graph-view" role="img" aria-label="The interface graph, nodes coloured by AS"></div>
<aside class="graph-side">
<form class="graph-search" role="search"><label>Find <input name="q" required placeholder="198.51.100.7 or AS64500" autocomplete="off" spellcheck="false"></label> <button type="submit">Zoom to it</button></form>
<p class="graph-status" role="status">Loading the map… (this page needs JavaScript and WebGL)</p>
<section class="graph-info" aria-live="polite" hidden></section>
<section class="graph-legend"><h2>Largest ASes</h2><ul></ul></section>
</aside>
</div>
<script type="module" src="${assets.script.url}"></script>`,
  );
}
