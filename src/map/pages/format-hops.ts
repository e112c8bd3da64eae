import { html, type Html } from '../../web/html.js';
import type { PathHops } from '../../results/route-paths.js';

/** A time as the pages show it, in UTC to the second, with the exact instant in `datetime`. */
export function showTime(at: Date | string): Html {
  const iso = new Date(at).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')} UTC</time>`;
}

export const flowName = (flow: number) => (flow === -1 ? 'multipath' : `flow ${flow}`);

/** The addresses at one TTL as a line of text: `*` for a TTL that did not answer. */
export const hopText = (addresses: string[] | undefined) =>
  addresses === undefined ? '' : addresses.length ? addresses.join(', ') : '*';

/** Whether two paths differ at `ttl` (1-based): other addresses, or one path has no such TTL. */
export function hopDiffers(before: PathHops, after: PathHops, ttl: number): boolean {
  return hopText(before[ttl - 1]) !== hopText(after[ttl - 1]);
}

export const explorerHref = (worker: string, target: string) =>
  `/paths?${new URLSearchParams({ worker, target }).toString()}`;
