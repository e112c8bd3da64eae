import { html } from '../../web/html.js';
import { layout, type PageContext } from '../../web/layout.js';
import { explorerHref, flowName, showTime } from './format-hops.js';
import type { PageChange } from './path-page-queries.js';

/** GET /changes: route changes since a time, newest first, under a heading per hour (UTC). */
export function renderChangesPage(
  ctx: PageContext,
  d: { since: string; sinceInput: string; changes: PageChange[]; limit: number },
): string {
  const hours = new Map<string, PageChange[]>();
  for (const c of d.changes) {
    const hour = `${new Date(c.after_first_seen_at).toISOString().slice(0, 13).replace('T', ' ')}:00 UTC`;
    hours.set(hour, [...(hours.get(hour) ?? []), c]);
  }
  const groups = [...hours].map(
    ([hour, changes]) =>
      html`<section class="hour"><h2>${hour}</h2><ul class="changes">${changes.map(
        (c) =>
          html`<li>${showTime(c.after_first_seen_at)} <a href="${explorerHref(c.worker, c.target)}">${c.worker} → ${c.target}</a> ${c.method}, ${flowName(c.flow)}: paths part at TTL ${c.diverge_ttl}</li>`,
      )}</ul></section>`,
  );
  const more =
    d.changes.length === d.limit ? html`<p>Showing the newest ${d.limit}; pick a later time to see the rest.</p>` : '';
  const body = html`<form method="get" action="/changes" class="pick">
<label>Since <input name="since" placeholder="2026-11-30T12:00:00Z" value="${d.sinceInput}"></label><button type="submit">Show</button></form>
<p>${d.changes.length} change${d.changes.length === 1 ? '' : 's'} since ${showTime(d.since)}.</p>${more}${groups}`;
  return layout(ctx, body);
}
