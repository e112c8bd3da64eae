/**
 * Signs in to a manager over HTTPS (its self-signed certificate unverified) as an operator would, then reads
 * the registry's JSON API and the dashboard. For a manager in a network namespace the test process cannot
 * reach: run this file inside it (`ip netns exec NS node --import tsx test/cli/manager-session.ts`) with
 * `{ "base": "https://127.0.0.1:8443", "name": "ops", "secret": "…" }` on stdin; it prints
 * `{ "services": [...], "dashboard": "<html…>" }`. The TOTP secret comes on stdin, not in argv.
 */
import https from 'node:https';
import { generate } from 'otplib';

export interface ManagerView {
  services: Array<{ id: number; url: string; name: string; service_type: string; status: string; last_error: string }>;
  dashboard: string;
}

interface Answer {
  status: number;
  location: string | undefined;
  text: string;
}

/** A browser without JavaScript for an HTTPS manager with a self-signed certificate: cookies and the CSRF token. */
export function httpsBrowser(base: string) {
  const cookies = new Map<string, string>();
  let csrf = '';
  const send = (method: string, path: string, form?: Record<string, string>) =>
    new Promise<Answer>((resolve, reject) => {
      const body = form ? new URLSearchParams({ ...form, _csrf: csrf }).toString() : undefined;
      const headers: Record<string, string> = { accept: 'text/html,application/json' };
      if (cookies.size) headers.cookie = [...cookies.values()].join('; ');
      if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
      const req = https.request(
        `${base}${path}`,
        { method, headers, rejectUnauthorized: false, agent: false },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => {
            for (const set of res.headers['set-cookie'] ?? []) {
              const pair = set.split(';')[0]!;
              cookies.set(pair.slice(0, pair.indexOf('=')), pair);
            }
            csrf = /name="_csrf" value="([^"]+)"/.exec(text)?.[1] ?? csrf;
            resolve({ status: res.statusCode ?? 0, location: res.headers.location, text });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const expect = (a: Answer, status: number, what: string) => {
    if (a.status !== status) throw new Error(`${what}: HTTP ${a.status}, expected ${status}: ${a.text.slice(0, 300)}`);
    return a;
  };
  return {
    send,
    expect,
    /** The two-step TOTP login, as an operator's browser does it. */
    async signIn(name: string, secret: string): Promise<void> {
      expect(await send('GET', '/login'), 200, 'GET /login');
      expect(await send('POST', '/login', { name }), 303, 'POST /login');
      expect(await send('GET', '/login/totp'), 200, 'GET /login/totp');
      const code = await generate({ secret, epoch: Math.floor(Date.now() / 1000) });
      expect(await send('POST', '/login/totp', { code }), 303, 'POST /login/totp');
    },
  };
}

export async function signInAndRead(base: string, name: string, secret: string): Promise<ManagerView> {
  const browser = httpsBrowser(base);
  await browser.signIn(name, secret);
  const api = browser.expect(await browser.send('GET', '/api/services'), 200, 'GET /api/services');
  const dashboard = browser.expect(await browser.send('GET', '/'), 200, 'GET /');
  return {
    services: (JSON.parse(api.text) as { services: ManagerView['services'] }).services,
    dashboard: dashboard.text,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let input = '';
  process.stdin.on('data', (c: Buffer) => (input += c.toString()));
  process.stdin.on('end', () => {
    const { base, name, secret } = JSON.parse(input) as { base: string; name: string; secret: string };
    signInAndRead(base, name, secret).then(
      (view) => process.stdout.write(JSON.stringify(view)),
      (err: Error) => {
        process.stderr.write(`${err.stack ?? err.message}\n`);
        process.exit(1);
      },
    );
  });
}
