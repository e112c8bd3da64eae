import { html, type Html } from '../../web/html.js';
import { layout, type PageContext } from '../../web/layout.js';
import type { RegisteredService } from './registered-services.js';
import { ago, serviceFigures } from './service-figures.js';

export interface AddForm {
  url?: string | undefined;
  name?: string | undefined;
}

/** GET /workers: every registered service, problems first, with the add form and per-row rename and remove. */
export function renderWorkersPage(ctx: PageContext, services: RegisteredService[], form: AddForm = {}): string {
  const csrf = html`<input type="hidden" name="_csrf" value="${ctx.csrfToken}">`;
  const rows = services.map((s) => serviceRow(s, csrf));
  const table = services.length
    ? html`<table><thead><tr><th>Name</th><th>Status</th><th>Last seen</th><th>Figures</th><th></th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p>Nothing registered yet. Add a worker, input, output or manager by its URL.</p>`;
  const body = html`<section><h2>Add by URL</h2>
<form method="post" action="/workers">${csrf}
<label>URL <input name="url" inputmode="url" required placeholder="http://10.0.0.5:8090" value="${form.url ?? ''}"></label>
<label>Name (optional) <input name="name" maxlength="100" placeholder="as the service calls itself" value="${form.name ?? ''}"></label>
<button type="submit">Add</button></form>
<p>The manager reads <code>/service-info</code> at that URL to tell what it is, then checks <code>/health</code> every minute.</p></section>
<section><h2>Registered (${services.length})</h2>${table}</section>`;
  return layout(ctx, body);
}

function serviceRow(s: RegisteredService, csrf: Html): Html {
  const figures = serviceFigures(s).map(([label, value]) => html`<li>${label}: ${value}</li>`);
  return html`<tr id="service-${s.id}" data-status="${s.status}">
<td><strong>${s.name}</strong><br><small>${s.serviceType}${s.version ? html` ${s.version}` : ''} · <a href="${s.url}/health">${s.url}</a></small></td>
<td><span class="status-${s.status}">${s.status}</span>${s.lastError ? html`<br><small>${s.lastError}</small>` : ''}</td>
<td title="${s.lastSeenAt?.toISOString() ?? ''}">${ago(s.lastSeenAt)}</td>
<td><ul>${figures}</ul></td>
<td><form method="post" action="/workers/${s.id}/rename" class="inline">${csrf}<input name="name" required maxlength="100" value="${s.name}" aria-label="New name"><button type="submit">Rename</button></form>
<form method="post" action="/workers/${s.id}/remove" class="inline">${csrf}<button type="submit">Remove</button></form></td></tr>`;
}
