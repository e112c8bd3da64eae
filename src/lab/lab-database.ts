import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import pg from 'pg';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * The same database over its unix socket. Services inside a lab namespace cannot reach the host's
 * loopback, but a unix socket is a file, and files are shared across network namespaces; so the lab's
 * services use this URL and the lab never needs a route to the host.
 */
export async function unixSocketUrl(url: string): Promise<string> {
  const u = new URL(url);
  const host = u.searchParams.get('host') ?? decodeURIComponent(u.hostname);
  if (host.startsWith('/')) return url;
  if (!LOCAL_HOSTS.has(host)) {
    throw new Error(
      `the lab's services reach PostgreSQL through its unix socket, so it must run on this machine (not ${host})`,
    );
  }
  const client = new pg.Client(url);
  await client.connect();
  let dirs: string;
  try {
    dirs = (await client.query<{ d: string }>("select current_setting('unix_socket_directories') as d")).rows[0]!.d;
  } finally {
    await client.end();
  }
  const port = u.port || '5432';
  const dir = dirs
    .split(',')
    .map((d) => d.trim())
    .find((d) => isAbsolute(d) && existsSync(join(d, `.s.PGSQL.${port}`)));
  if (!dir)
    throw new Error(
      `PostgreSQL on ${host}:${port} has no unix socket the lab can use (unix_socket_directories = '${dirs}')`,
    );
  const out = new URL(u.toString());
  out.hostname = '';
  out.port = '';
  out.searchParams.set('host', dir);
  out.searchParams.set('port', port);
  return out.toString();
}
