import { html, type Html } from '../ui/html.js';
import { layout, type PageContext } from '../ui/layout.js';
import type { KeyRecord as ApiKeyRecord } from '../../keys/key-store.js';

export interface NewKey {
  key: string;
  name: string;
  /** This manager's address as the browser reached it, for the worker config snippet. */
  gatewayUrl: string;
}

/** GET /api-keys: every key (never the key itself), the create form, and a new key once, right after creation. */
export function renderApiKeysPage(ctx: PageContext, keys: ApiKeyRecord[], created?: NewKey): string {
  const csrf = html`<input type="hidden" name="_csrf" value="${ctx.csrfToken}">`;
  const fresh = created
    ? html`<section class="new-key"><h2>New key for ${created.name}</h2>
<p><strong>Copy it now: it is shown only this once.</strong> The manager keeps only its hash.</p>
<pre><code>${created.key}</code></pre>
<p>In the worker's config:</p>
<pre><code>input_file: ${created.gatewayUrl}
output_file: ${created.gatewayUrl}
api_key: ${created.key}</code></pre></section>`
    : html``;
  const rows = keys.map((k) => keyRow(k, csrf));
  const table = keys.length
    ? html`<table><thead><tr><th>Name</th><th>Key</th><th>Created</th><th>Last used</th><th>State</th><th></th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p>No API keys yet.</p>`;
  const body = html`${fresh}<section><h2>Create a key</h2>
<p>A key lets one external worker (for example behind NAT) get targets and deliver results through this manager's <code>/gateway</code>. It opens nothing else.</p>
<form method="post" action="/api-keys">${csrf}<label>Name <input name="name" required maxlength="100" placeholder="pi-helsinki-4g"></label>
<button type="submit">Create key</button></form></section>
<section><h2>Keys (${keys.length})</h2>${table}</section>`;
  return layout(ctx, body);
}

function keyRow(k: ApiKeyRecord, csrf: Html): Html {
  const state = k.revokedAt ? html`revoked ${k.revokedAt.toISOString()}` : html`active`;
  const revoke = k.revokedAt
    ? html``
    : html`<form method="post" action="/api-keys/${k.id}/revoke" class="inline">${csrf}<button type="submit">Revoke</button></form>`;
  return html`<tr id="key-${k.id}"><td>${k.name}</td><td><code>${k.prefix}…</code> <small>${k.role}</small></td>
<td>${k.createdAt.toISOString()}${k.createdBy ? html` by ${k.createdBy}` : ''}</td><td>${k.lastUsedAt?.toISOString() ?? 'never'}</td>
<td>${state}</td><td>${revoke}</td></tr>`;
}
