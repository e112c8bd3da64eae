import { html, type Html } from '../../web/html.js';
import { layout, type PageContext } from '../../web/layout.js';
import type { PathHops } from '../../results/route-paths.js';
import { flowName, hopDiffers, hopText, showTime } from './format-hops.js';
import type { AddressDetails } from '../graph/address-info.js';
import { dataCreditHtml } from '../enrich/data-credit.js';
import type { CurrentRoute, PageChange } from './path-page-queries.js';

export interface PathPageData {
  workers: string[];
  worker?: string | undefined;
  target?: string | undefined;
  /** Present once a worker and target were asked for. */
  routes?: CurrentRoute[];
  changes?: PageChange[];
  details?: Map<string, AddressDetails>;
}

/** GET /paths: the form, then per route of the worker to the target the current path and its changes. */
export function renderPathPage(ctx: PageContext, d: PathPageData): string {
  const options = d.workers.map(
    (w) => html`<option value="${w}"${w === d.worker ? html` selected` : ''}>${w}</option>`,
  );
  const form = html`<form method="get" action="/paths" class="pick">
<label>Worker <select name="worker" required><option value="">choose…</option>${options}</select></label>
<label>Target <input name="target" required inputmode="decimal" placeholder="198.51.100.7" value="${d.target ?? ''}"></label>
<button type="submit">Show</button></form>
<p><a href="/changes">Route changes of the last 24 hours</a></p>`;
  if (!d.routes || !d.worker || !d.target) return layout(ctx, form);
  const details = d.details ?? new Map<string, AddressDetails>();
  const sections = d.routes.length
    ? d.routes.map((r) =>
        routeSection(
          r,
          (d.changes ?? []).filter((c) => c.method === r.method && c.flow === r.flow),
          details,
        ),
      )
    : html`<p>No routes from ${d.worker} to ${d.target} yet.</p>`;
  // The hop tables show AS, organisation and country: the data's credit goes with them.
  return layout(d.routes.length ? { ...ctx, footer: dataCreditHtml() } : ctx, html`${form}${sections}`);
}

function routeSection(r: CurrentRoute, changes: PageChange[], details: Map<string, AddressDetails>): Html {
  const rows = r.hops.flatMap((addresses, i) =>
    addresses.length
      ? addresses.map((a) => {
          const d = details.get(a);
          return html`<tr><td>${i + 1}</td><td>${a}</td><td>${d?.asn != null ? `AS${d.asn}` : ''}</td><td>${d?.as_org ?? ''}</td><td>${d?.country ?? ''}</td></tr>`;
        })
      : [html`<tr class="silent"><td>${i + 1}</td><td>*</td><td></td><td></td><td></td></tr>`],
  );
  const history = changes.length ? changes.map((c) => changeArticle(c)) : html`<p>No changes recorded.</p>`;
  return html`<section class="route" data-method="${r.method}" data-flow="${r.flow}">
<h2>${r.method}, ${flowName(r.flow)}</h2>
<p>On this path since ${showTime(r.first_seen_at)}, last seen ${showTime(r.last_seen_at)}, ${r.observations} observation${r.observations === 1 ? '' : 's'}${r.reached ? '' : ', target not reached'}.</p>
<table class="path"><thead><tr><th>TTL</th><th>Address</th><th>AS</th><th>Organisation</th><th>Country</th></tr></thead><tbody>${rows}</tbody></table>
<h3>Changes (${changes.length})</h3>${history}</section>`;
}

function changeArticle(c: PageChange): Html {
  return html`<article class="change" id="change-${c.id}"><p>${showTime(c.after_first_seen_at)}: the paths part at TTL ${c.diverge_ttl}.</p>${pathDiff(c.before, c.after)}</article>`;
}

/** The path before and after side by side, one row per TTL, the TTLs that differ marked `hop-diff`. */
function pathDiff(before: PathHops, after: PathHops): Html {
  const rows = Array.from({ length: Math.max(before.length, after.length) }, (_, i) => {
    const cls = hopDiffers(before, after, i + 1) ? html` class="hop-diff"` : '';
    return html`<tr${cls}><td>${i + 1}</td><td>${hopText(before[i])}</td><td>${hopText(after[i])}</td></tr>`;
  });
  return html`<table class="diff"><thead><tr><th>TTL</th><th>Before</th><th>After</th></tr></thead><tbody>${rows}</tbody></table>`;
}
