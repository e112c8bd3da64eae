import { KEY_NAME_RULE } from '../../keys/key-name.js';
import { html, type Html } from '../../web/html.js';
import { layout, type PageContext } from '../../web/layout.js';
import { ROLES, type KeyRecord as ApiKeyRecord, type Role } from '../../keys/key-store.js';

export interface NewKey {
  key: string;
  name: string;
  role: Role;
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
${usage(created)}</section>`
    : html``;
  const rows = keys.map((k) => keyRow(k, csrf));
  const table = keys.length
    ? html`<table><thead><tr><th>Name</th><th>Key</th><th>Role</th><th>Created</th><th>Last used</th><th>State</th><th></th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p>No API keys yet.</p>`;
  const body = html`${fresh}<section><h2>Create a key</h2>
<p>A key is sent as <code>Authorization: Bearer KEY</code>. It opens this manager's <code>/gateway</code> and the input and output services directly, for what its role allows, and nothing of the manager itself:</p>
<ul><li><strong>worker</strong>: get targets and deliver results (a worker leases only as its own consumers, named after the key);</li>
<li><strong>feeder</strong>: post hops to an input (an output's <code>--input-key</code>);</li>
<li><strong>admin</strong>: everything, including dumps, rotation, the do-not-probe list, consumer state and the query routes.</li></ul>
<form method="post" action="/api-keys">${csrf}<label>Name <input name="name" required maxlength="64" pattern="[A-Za-z0-9._:@\\-]{1,64}" title="${KEY_NAME_RULE}" placeholder="pi-helsinki-4g"></label>
<label>Role <select name="role">${ROLES.map((r) => html`<option value="${r}"${r === 'worker' ? html` selected` : html``}>${r}</option>`)}</select></label>
<button type="submit">Create key</button></form></section>
<section><h2>Keys (${keys.length})</h2>${table}</section>`;
  return layout(ctx, body);
}

function keyRow(k: ApiKeyRecord, csrf: Html): Html {
  const state = k.revokedAt ? html`revoked ${k.revokedAt.toISOString()}` : html`active`;
  const revoke = k.revokedAt
    ? html``
    : html`<form method="post" action="/api-keys/${k.id}/revoke" class="inline">${csrf}<button type="submit">Revoke</button></form>`;
  return html`<tr id="key-${k.id}"><td>${k.name}</td><td><code>${k.prefix}…</code></td><td>${k.role}</td>
<td>${k.createdAt.toISOString()}${k.createdBy ? html` by ${k.createdBy}` : ''}</td><td>${k.lastUsedAt?.toISOString() ?? 'never'}</td>
<td>${state}</td><td>${revoke}</td></tr>`;
}

/** Where the new key goes, for its role. */
function usage(created: NewKey): Html {
  if (created.role === 'feeder') {
    return html`<p>For an output that feeds hops to an input:</p>
<pre><code>hopmap output --input-url https://input.example.net --input-key ${created.key}</code></pre>`;
  }
  if (created.role === 'admin') {
    return html`<p>For an operator's tools, for example:</p>
<pre><code>curl -H 'Authorization: Bearer ${created.key}' https://output.example.net/stats</code></pre>`;
  }
  return html`<p>In the worker's config, through this manager (or point both at the input and output directly):</p>
<pre><code>input_file: ${created.gatewayUrl}
output_file: ${created.gatewayUrl}
api_key: ${created.key}</code></pre>`;
}
