import type { Pool } from '../../db/create-pool.js';
import { html, type Html } from '../../web/html.js';
import { listServices, SERVICE_STATUSES } from './registered-services.js';
import { ago } from './service-figures.js';

/** For the dashboard at /: how many registered services are in each status, and the ones with a problem. */
export async function servicesDashboardSection(pool: Pool): Promise<Html> {
  const services = await listServices(pool);
  const counts = SERVICE_STATUSES.map(
    (status) => [status, services.filter((s) => s.status === status).length] as const,
  );
  const problems = services.filter((s) => s.status !== 'ok');
  const list = problems.length
    ? html`<ul>${problems.map((s) => html`<li><span class="status-${s.status}">${s.status}</span> <a href="/workers#service-${s.id}">${s.name}</a> (${s.serviceType}), last seen ${ago(s.lastSeenAt)}${s.lastError ? html`: ${s.lastError}` : ''}</li>`)}</ul>`
    : html`<p>${services.length ? 'No problems.' : html`Nothing registered yet: <a href="/workers">add workers and services</a>.`}</p>`;
  return html`<section class="services-summary"><h2>Workers and services</h2>
<p>${counts.map(([status, n], i) => html`${i ? ', ' : ''}<span class="status-${status}">${n} ${status}</span>`)} of ${services.length} registered.</p>
${list}</section>`;
}
