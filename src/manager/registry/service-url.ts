import { badRequest } from '../../http/http-error.js';

/**
 * The base URL a service is registered under: http(s), no credentials, query or fragment, no trailing
 * slash. A pasted `…/service-info` or `…/health` is cut back to the base; `host:port` means http.
 */
export function normalizeServiceUrl(input: string): string {
  const text = input.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw badRequest('invalid_url', `url: ${JSON.stringify(text.slice(0, 200))} is not a URL`, [
      { path: 'url', message: 'not a URL' },
    ]);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw badRequest('invalid_url', `url: ${url.protocol} is not supported; use http:// or https://`, [
      { path: 'url', message: 'expected http or https' },
    ]);
  // The URL is stored and shown in the clear, so a password must never be part of it.
  if (url.username || url.password)
    throw badRequest('invalid_url', 'url: must not carry a user name or password', [
      { path: 'url', message: 'credentials in the URL' },
    ]);
  const path = url.pathname.replace(/\/(service-info|health)\/?$/, '').replace(/\/+$/, '');
  return `${url.origin}${path}`;
}
