import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../src/version.js';
import { assertNoLeaks } from '../support/leaks.js';
import { listenOn, startNginx, upstreamsOn, type RunningNginx } from '../support/nginx.js';
import { freePort } from '../support/throwaway-postgres.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'nginx');

const DEPLOY = join(PROJECT_ROOT, 'deploy/nginx');

/** Stands in for a service: answers every request 200 with the path it got, so a test sees what got through. */
async function echoServer(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ reached: req.url })),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** A request from `from`: on Linux every 127/8 address is this host, so a test can be a client outside 127.0.0.1. */
function send(
  port: number,
  method: string,
  path: string,
  from: string,
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, localAddress: from, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '[]' : undefined);
  });
}

// The shipped hopmap.conf and example upstreams, only the ports changed: 127.0.0.1 is in the operators' network
// there (loopback), 127.0.0.2 is not.
describe('deploy/nginx: admin paths for the operators network only', { skip }, () => {
  const OUTSIDER = '127.0.0.2';
  const OPERATOR = '127.0.0.1';
  let upstreams: http.Server[] = [];
  let nginx: RunningNginx;
  let input = 0;
  let output = 0;

  before(async () => {
    upstreams = await Promise.all([echoServer(), echoServer(), echoServer()]);
    const [i, o, m] = upstreams.map((s) => (s.address() as AddressInfo).port);
    [input, output] = [await freePort(), await freePort()];
    const manager = await freePort();
    const conf = listenOn(readFileSync(join(DEPLOY, 'hopmap.conf'), 'utf8'), {
      8080: input,
      8081: output,
      8443: manager,
    });
    const example = readFileSync(join(DEPLOY, 'upstreams.example.conf'), 'utf8');
    nginx = await startNginx({
      http: conf + upstreamsOn(example, { hopmap_input: [i!], hopmap_output: [o!], hopmap_manager: [m!] }),
      ports: [input, output, manager],
    });
  });

  after(async () => {
    await nginx?.stop();
    await Promise.all(upstreams.map((s) => new Promise((resolve) => s.close(resolve))));
    await assertNoLeaks();
  });

  const admin: Array<[() => number, string, string]> = [
    [() => input, 'GET', '/status'],
    [() => input, 'GET', '/export'],
    [() => input, 'POST', '/import'],
    [() => input, 'POST', '/exclusions'],
    [() => input, 'DELETE', '/exclusions?cidr=0.0.0.0/0'],
    [() => input, 'GET', '/STATUS/'],
    [() => output, 'GET', '/dump'],
    [() => output, 'POST', '/rotate'],
    [() => output, 'GET', '/stats'],
    [() => output, 'GET', '/recent?limit=5'],
    [() => output, 'GET', '/routes/path?target=192.0.2.1'],
    [() => output, 'GET', '/api/map/changes'],
    [() => output, 'GET', '/Dump'],
    [() => output, 'GET', '//dump'],
    [() => output, 'GET', '/%64ump'],
  ];
  const open: Array<[() => number, string, string]> = [
    [() => input, 'GET', '/'],
    [() => input, 'GET', '/targets?n=10'],
    [() => input, 'POST', '/hops'],
    [() => output, 'POST', '/results'],
    ...['/health', '/ready', '/metrics', '/service-info'].flatMap((p): Array<[() => number, string, string]> => [
      [() => input, 'GET', p],
      [() => output, 'GET', p],
    ]),
  ];

  it('refuses every admin path from outside the operators network with 403 in the error shape, before it reaches a service', async () => {
    for (const [port, method, path] of admin) {
      const res = await send(port(), method, path, OUTSIDER);
      assert.equal(res.status, 403, `${method} ${path}: ${res.body}`);
      assert.match(res.type, /^application\/json/);
      assert.deepEqual(JSON.parse(res.body), {
        error: { code: 'operators_only', message: 'this path is open to the operators network only' },
      });
    }
  });

  it('passes the workers, feeders and monitoring paths from anywhere, and admin paths from the operators network', async () => {
    for (const [port, method, path] of open) {
      const res = await send(port(), method, path, OUTSIDER);
      assert.equal(res.status, 200, `${method} ${path}: ${res.body}`);
      assert.equal(JSON.parse(res.body).reached, path);
    }
    for (const [port, method, path] of admin) {
      const res = await send(port(), method, path, OPERATOR);
      assert.equal(res.status, 200, `${method} ${path} from the operators network: ${res.body}`);
    }
  });
});
