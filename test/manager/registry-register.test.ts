import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Express } from 'express';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { createServiceApp } from '../../src/http/create-service-app.js';
import { freePort } from '../../src/http/free-port.js';
import { listen, type Listening } from '../../src/http/listen.js';
import { makeIdentity } from '../../src/http/service-identity.js';
import { ServiceMetrics } from '../../src/http/service-metrics.js';
import { servicesApiRouter, workersPageRouter } from '../../src/manager/registry/index.js';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { postJson, request } from '../support/http-client.js';
import { startInput } from '../support/input-fixture.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

/** A tiny HTTP server answering fixed bodies by path: a stand-in worker, or something that is not hopmap. */
async function stub(
  routes: Record<string, { status?: number; type?: string; body: string }>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const r = routes[req.url ?? ''];
    res.writeHead(r?.status ?? (r ? 200 : 404), { 'content-type': r?.type ?? 'application/json' });
    res.end(r?.body ?? '{"error":{"code":"not_found","message":"no route"}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const workerInfo = {
  service_type: 'ping',
  version: '0.1.0',
  name: 'pi-kitchen',
  instance_id: 'ping-pi-1',
  capabilities: ['icmp', 'tcp'],
};
const workerHealth = {
  status: 'ok',
  service_type: 'ping',
  name: 'pi-kitchen',
  instance_id: 'ping-pi-1',
  version: '0.1.0',
  uptime_seconds: 3725,
  checks: {},
  counters: { results_total: 1234 },
  pps_cap: 100,
  spool: { depth: 7, bytes: 900, dropped: 0 },
};

/** The manager's routes on the service kit, with the session middleware's res.locals faked. */
async function startManager(pool: Pool, routes: (app: Express) => void): Promise<Listening> {
  const { app } = createServiceApp({
    identity: makeIdentity('manager', [], 'manager-test'),
    log: quietLog,
    metrics: new ServiceMetrics('manager'),
    routes(app) {
      app.use((_req, res, next) => {
        res.locals.user = 'alice';
        res.locals.csrfToken = 'csrf-token-1';
        next();
      });
      routes(app);
    },
  });
  return listen(app, { port: 0, host: '127.0.0.1' });
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  body: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});

describe('registry: registering services by URL', { skip }, () => {
  let db: TestDatabase;
  let pool: Pool;
  let input: RunningService;
  let output: RunningService;
  let manager: Listening;
  let worker: Awaited<ReturnType<typeof stub>>;
  let notJson: Awaited<ReturnType<typeof stub>>;
  let notHopmap: Awaited<ReturnType<typeof stub>>;

  before(async () => {
    db = await createTestDatabase('registry_register');
    pool = createPool(db.url, quietLog, { max: 4 });
    input = await startInput(db.url, { auth: 'off' });
    output = await startService(outputService({ ...outputWiring, auth: 'off' }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
      name: 'output-east',
    });
    worker = await stub({
      '/service-info': { body: JSON.stringify(workerInfo) },
      '/health': { body: JSON.stringify(workerHealth) },
    });
    notJson = await stub({ '/service-info': { type: 'text/html', body: '<html><body>router login</body></html>' } });
    notHopmap = await stub({ '/service-info': { body: JSON.stringify({ hello: 'world', version: 3 }) } });
    manager = await startManager(pool, (app) => {
      app.use(servicesApiRouter({ pool, timeoutMs: 2_000 }));
      app.use(workersPageRouter({ pool, timeoutMs: 2_000 }));
    });
  });

  after(async () => {
    await manager?.close(1_000);
    await Promise.all([worker?.close(), notJson?.close(), notHopmap?.close(), input?.stop(), output?.stop()]);
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  it('detects an input, an output and a worker from /service-info and suggests their own names', async () => {
    const added = [];
    for (const url of [input.url, output.url, worker.url]) {
      const res = await postJson(`${manager.url}/api/services`, { url });
      assert.equal(res.status, 201, res.text);
      added.push(res.json());
    }
    assert.deepEqual(
      added.map((s) => [s.service_type, s.name, s.url]),
      [
        ['input', input.identity.name, input.url],
        ['output', 'output-east', output.url],
        ['ping', 'pi-kitchen', worker.url],
      ],
    );
    // The first health check ran at registration: the list is right before any poll.
    assert.deepEqual(
      added.map((s) => s.status),
      ['ok', 'ok', 'ok'],
    );
    assert.equal(added[0].instance_id, input.identity.instanceId);
    assert.ok(added[1].capabilities.includes('results'));
    assert.equal(added[2].details.spool.depth, 7);
    assert.ok(added[2].last_seen_at);
  });

  it('takes a manual name instead of the suggested one, and renames later', async () => {
    const other = await stub({
      '/service-info': { body: JSON.stringify({ ...workerInfo, instance_id: 'ping-pi-2' }) },
      '/health': { body: JSON.stringify(workerHealth) },
    });
    try {
      const res = await postJson(`${manager.url}/api/services`, {
        url: `${other.url}/service-info/`,
        name: '  garage pi  ',
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json().name, 'garage pi');
      assert.equal(res.json().url, other.url, 'a pasted /service-info URL is cut back to the base');
      const renamed = await request(`${manager.url}/api/services/${res.json().id}`, {
        method: 'PATCH',
        body: JSON.stringify({ name: 'shed pi' }),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(renamed.status, 200, renamed.text);
      assert.equal(renamed.json().name, 'shed pi');
      const removed = await request(`${manager.url}/api/services/${res.json().id}`, { method: 'DELETE' });
      assert.equal(removed.status, 200);
      assert.equal((await request(`${manager.url}/api/services/${res.json().id}`, { method: 'DELETE' })).status, 404);
    } finally {
      await other.close();
    }
  });

  it('refuses a URL that is already registered', async () => {
    const res = await postJson(`${manager.url}/api/services`, { url: `${input.url}/` });
    assert.equal(res.status, 409);
    assert.match(
      res.json().error.message,
      new RegExp(`${input.url} is already registered as "${input.identity.name}"`),
    );
  });

  it('says why detection failed and which URL: unreachable, not JSON, not a hopmap service, an HTTP error', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const cases = [
      {
        url: dead,
        code: 'service_unreachable',
        message: new RegExp(`^${dead}/service-info is unreachable: ECONNREFUSED`),
      },
      {
        url: notJson.url,
        code: 'service_not_json',
        message: new RegExp(`^${notJson.url}/service-info answered something that is not JSON: "<html>`),
      },
      {
        url: notHopmap.url,
        code: 'not_a_hopmap_service',
        message: new RegExp(
          `^${notHopmap.url}/service-info is not a hopmap service: its JSON lacks or mistypes service_type, version, name, instance_id, capabilities`,
        ),
      },
      {
        url: `${worker.url}/nested`,
        code: 'service_http_error',
        message: new RegExp(`^${worker.url}/nested/service-info answered HTTP 404`),
      },
    ];
    for (const c of cases) {
      const res = await postJson(`${manager.url}/api/services`, { url: c.url });
      assert.equal(res.status, 422, `${c.url}: ${res.text}`);
      assert.equal(res.json().error.code, c.code);
      assert.match(res.json().error.message, c.message);
    }
    const bad = await postJson(`${manager.url}/api/services`, { url: 'ftp://example.net/' });
    assert.equal(bad.status, 400);
    assert.match(bad.json().error.message, /ftp: is not supported/);
    const list = (await request(`${manager.url}/api/services`)).json().services;
    assert.equal(list.length, 3, 'nothing was stored for the failures');
  });

  it('serves the workers page: every form carries the CSRF token, adding by URL works and a failure is shown', async () => {
    const page = await request(`${manager.url}/workers`);
    assert.equal(page.status, 200);
    assert.match(page.text, /pi-kitchen/);
    assert.match(page.text, /results produced: 1,234/);
    assert.match(page.text, /spool depth: 7/);
    assert.match(page.text, /pps cap: 100/);
    assert.match(page.text, /uptime: 1 h 2 min/);
    const forms = page.text.match(/<form method="post"[\s\S]*?<\/form>/g) ?? [];
    assert.ok(forms.length >= 1 + 3 * 2, `add form plus rename and remove per service, got ${forms.length}`);
    for (const f of forms) assert.match(f, /<input type="hidden" name="_csrf" value="csrf-token-1">/);

    const failed = await request(
      `${manager.url}/workers`,
      form({ url: notJson.url, name: 'x', _csrf: 'csrf-token-1' }),
    );
    assert.equal(failed.status, 422);
    assert.match(failed.text, /class="flash error"[^>]*>[^<]*answered something that is not JSON/);
    assert.match(failed.text, new RegExp(`value="${notJson.url}"`), 'what was typed is kept');

    const other = await stub({
      '/service-info': { body: JSON.stringify({ ...workerInfo, instance_id: 'ping-pi-3', name: 'attic <pi>' }) },
      '/health': { body: JSON.stringify(workerHealth) },
    });
    try {
      const added = await request(`${manager.url}/workers`, form({ url: other.url, name: '', _csrf: 'csrf-token-1' }));
      assert.equal(added.status, 303);
      const shown = await request(`${manager.url}${added.headers.location}`);
      assert.match(shown.text, /Registered attic &lt;pi&gt; \(ping\), status ok\./, 'names are escaped');
      const id = /added=(\d+)/.exec(String(added.headers.location))![1];
      const removed = await request(`${manager.url}/workers/${id}/remove`, form({ _csrf: 'csrf-token-1' }));
      assert.equal(removed.status, 303);
      assert.doesNotMatch((await request(`${manager.url}/workers`)).text, /attic/);
    } finally {
      await other.close();
    }
  });
});
