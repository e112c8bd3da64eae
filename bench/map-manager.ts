import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { generate } from 'otplib';
import type { Pool } from '../src/db/create-pool.js';
import type { Logger } from '../src/log/create-logger.js';
import { mapPlugin } from '../src/map/api/map-plugin.js';
import { managerService } from '../src/manager/manager-service.js';
import { addUser } from '../src/manager/users/manage-users.js';
import { startService, type RunningService } from '../src/service/start-service.js';

export interface SignedInManager {
  manager: RunningService;
  /** `hopmap.sid=…`, for the Cookie header of every request. */
  cookie: string;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(
  url: string,
  opts: { method?: string; cookie?: string | undefined; form?: Record<string, string> },
): Promise<Answer> {
  const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
  const headers: Record<string, string> = {};
  if (opts.cookie) headers.cookie = opts.cookie;
  if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The manager with the map API, in this process on port 0 as the tests start it, and an operator signed in
 * through both login steps (name, then TOTP). The /api rate limit is raised out of the way: the bench asks
 * faster than an operator would, and a 429 would measure the limiter instead of the map.
 */
export async function startSignedInManager(databaseUrl: string, log: Logger): Promise<SignedInManager> {
  const serverKey = randomBytes(32);
  const manager = await startService(
    managerService({ serverKey, plugins: [mapPlugin], apiRequestsPerMinute: 10_000_000 }),
    { databaseUrl, host: '127.0.0.1', port: 0, log },
  );
  try {
    const cookie = await signIn(manager.url, manager.pool, serverKey);
    return { manager, cookie };
  } catch (err) {
    await manager.stop();
    throw err;
  }
}

/** A new operator signed in to the manager at `url` through both login steps (name, then TOTP): its session cookie. */
export async function signIn(url: string, pool: Pool, serverKey: Buffer): Promise<string> {
  const name = `bench-${randomBytes(3).toString('hex')}`;
  const user = await addUser(pool, serverKey, name);
  // Every cookie the manager sets, as a browser keeps them: the login forms' CSRF cookie and the pending
  // login before there is a session, then the session itself.
  const jar = new Map<string, string>();
  let csrf = '';
  const step = async (path: string, form?: Record<string, string>) => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ') || undefined;
    const res = await request(`${url}${path}`, {
      method: form ? 'POST' : 'GET',
      cookie,
      form: form && { ...form, _csrf: csrf },
    });
    for (const set of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
      const [pair = ''] = set.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    csrf = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1] ?? csrf;
    return res;
  };
  await step('/login');
  const first = await step('/login', { name });
  if (first.status !== 303) throw new Error(`bench login, name step: ${first.status} ${first.body.slice(0, 200)}`);
  await step('/login/totp');
  const second = await step('/login/totp', {
    code: await generate({ secret: user.secret, epoch: Math.floor(Date.now() / 1000) }),
  });
  const session = jar.get('hopmap.sid');
  if (second.status !== 303 || !session)
    throw new Error(`bench login, TOTP step: ${second.status} ${second.body.slice(0, 200)}`);
  return `hopmap.sid=${session}`;
}
