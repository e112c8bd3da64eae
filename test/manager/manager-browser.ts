import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { request, type HttpResponse } from '../support/http-client.js';

/**
 * A browser without JavaScript, as the manager's tests need one: keeps the cookies (one path for all), reads the CSRF
 * token from the last form, and sends every request as from `ip` (X-Forwarded-For, which the manager believes
 * from loopback), so tests in one file keep apart in the per-address rate limits.
 */
export class Browser {
  /** Every cookie the manager set and has not cleared, by name, as `name=value`. */
  readonly cookies = new Map<string, string>();
  /** The Set-Cookie header of the session cookie last received, for its flags. */
  lastSetCookie: string | undefined;
  csrf: string | undefined;

  constructor(readonly ip: string) {}

  /** The session cookie (`hopmap.sid=…`): only a signed-in user has one. */
  get cookie(): string | undefined {
    return this.cookies.get('hopmap.sid');
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<HttpResponse> {
    return this.keep(await request(url, { headers: this.headers(headers) }));
  }

  async post(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<HttpResponse> {
    const body = new URLSearchParams(form).toString();
    return this.keep(
      await request(url, {
        method: 'POST',
        body,
        headers: this.headers({ 'content-type': 'application/x-www-form-urlencoded', ...headers }),
      }),
    );
  }

  /** Posts a form with the CSRF token of the last page. */
  submit(url: string, form: Record<string, string> = {}): Promise<HttpResponse> {
    assert.ok(this.csrf, 'no CSRF token: get a page with a form first');
    return this.post(url, { ...form, _csrf: this.csrf });
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    const cookie = [...this.cookies.values()].join('; ');
    return { 'x-forwarded-for': this.ip, ...(cookie ? { cookie } : {}), ...extra };
  }

  private keep(res: HttpResponse): HttpResponse {
    for (const set of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
      const value = set.split(';')[0]!;
      const name = value.slice(0, value.indexOf('='));
      if (name === 'hopmap.sid') this.lastSetCookie = set;
      if (/^[^=]+=;|Expires=Thu, 01 Jan 1970/.test(set)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(res.text)?.[1];
    if (token) this.csrf = token;
    return res;
  }
}

/** The current code of a base32 secret, as the user's authenticator app shows it. */
export const codeFor = (secret: string, atMs = Date.now()) => generate({ secret, epoch: Math.floor(atMs / 1000) });

/** Both login steps; `first` and `second` may be different instances. Returns the final answer. */
export async function logIn(
  b: Browser,
  first: string,
  second: string,
  name: string,
  code: string,
): Promise<HttpResponse> {
  await b.get(`${first}/login`);
  const step1 = await b.submit(`${first}/login`, { name });
  assert.equal(step1.status, 303, step1.text);
  assert.equal(step1.headers.location, '/login/totp');
  await b.get(`${second}/login/totp`);
  return b.submit(`${second}/login/totp`, { code });
}
