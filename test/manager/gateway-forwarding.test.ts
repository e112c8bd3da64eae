import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { createServiceApp } from '../../src/http/create-service-app.js';
import { errorHandler, notFoundHandler } from '../../src/http/error-handler.js';
import { freePort } from '../../src/http/free-port.js';
import { listen, type Listening } from '../../src/http/listen.js';
import { makeIdentity } from '../../src/http/service-identity.js';
import { ServiceMetrics } from '../../src/http/service-metrics.js';
import { createKey } from '../../src/keys/key-store.js';
import { createGateway, type Gateway, type GatewayDeps } from '../../src/manager/gateway/index.js';
import { request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A stand-in input or output that records exactly what reached it, and answers as told. */
class Upstream {
  readonly seen: Seen[] = [];
  /** Bytes of the request in progress, to watch a body arrive while the client is still sending. */
  receiving = 0;
  /** 'ok' echoes a summary; 'busy' answers 503 at once, before reading the body, as an overloaded instance may. */
  mode: 'ok' | 'busy' = 'ok';
  url = '';
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    this.receiving = 0;
    if (this.mode === 'busy') {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end(JSON.stringify({ error: { code: 'database_unavailable', message: 'busy upstream' } }));
    }
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      this.receiving += c.length;
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      this.seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (this.mode === 'busy') return;
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream-note': 'stored' });
      res.end(JSON.stringify({ accepted: 1, sha256: createHash('sha256').update(body).digest('hex') }));
    });
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** The gateway mounted ahead of any body parser (bodies stream), as the manager app should mount it. */
async function rawManager(deps: GatewayDeps): Promise<{ gateway: Gateway; http: Listening }> {
  const gateway = createGateway(deps);
  const app = express();
  app.use(gateway.router);
  app.use(notFoundHandler);
  app.use(errorHandler(quietLog));
  return { gateway, http: await listen(app, { port: 0, host: '127.0.0.1' }) };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('gateway: forwarding requests faithfully', { skip }, () => {
  let db: TestDatabase;
  let pool: Pool;
  let key: string;
  let keyId: string;
  let a: Upstream;
  let b: Upstream;
  const managers: Array<{ gateway: Gateway; http: Listening }> = [];

  /** A manager whose gateway sees exactly these instances. */
  const manager = async (upstreams: { input?: Upstream[]; output?: Upstream[] }, extra: Partial<GatewayDeps> = {}) => {
    const m = await rawManager({
      pool,
      log: quietLog,
      findUpstreams: (type) => Promise.resolve((upstreams[type] ?? []).map((u) => u.url)),
      ...extra,
    });
    managers.push(m);
    return m.http.url;
  };
  const auth = () => ({ authorization: `Bearer ${key}` });

  before(async () => {
    db = await createTestDatabase('gateway_forwarding');
    pool = createPool(db.url, quietLog, { max: 4 });
    const created = await createKey(pool, { name: 'placeholder', role: 'worker' });
    // A name from before names were restricted to the consumer id alphabet: still carried, encoded.
    await pool.query(`update manager.api_keys set name = 'pi ärrä' where id = $1`, [created.record.id]);
    key = created.key;
    keyId = created.record.id;
    a = await new Upstream().start();
    b = await new Upstream().start();
  });

  after(async () => {
    for (const m of managers) {
      await m.http.close(1_000);
      await m.gateway.close();
    }
    await Promise.all([a?.close(), b?.close()]);
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  it('streams a gzip NDJSON body through unchanged, headers included, and says which key sent it', async () => {
    const url = await manager({ output: [a] });
    const lines = Array.from({ length: 20_000 }, (_, i) =>
      JSON.stringify({ id: i, pad: randomBytes(48).toString('hex') }),
    ).join('\n');
    const body = gzipSync(lines);
    assert.ok(body.length > 1024 * 1024, 'larger than what is kept for a retry');
    const first = body.subarray(0, 64 * 1024);
    const answer = new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>(
      (resolve, reject) => {
        const req = http.request(
          `${url}/gateway/results`,
          {
            method: 'POST',
            agent: false,
            headers: {
              ...auth(),
              'content-type': 'application/x-ndjson',
              'content-encoding': 'gzip',
              'x-worker-id': 'nat-7',
              cookie: 'connect.sid=manager-session',
              'user-agent': 'hopmap-worker/test',
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
          },
        );
        req.on('error', reject);
        req.write(first);
        // The upstream sees the first bytes before the client has sent the rest: streamed, not collected first.
        (async () => {
          for (let i = 0; i < 200 && a.receiving === 0; i++) await sleep(10);
          assert.ok(a.receiving > 0, 'the body is streaming to the upstream while the client still sends');
          req.end(body.subarray(first.length));
        })().catch(reject);
      },
    );
    const res = await answer;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['x-upstream-note'], 'stored', "the upstream's headers come back");
    assert.equal(JSON.parse(res.text).sha256, sha(body), 'the upstream got the very bytes');
    const seen = a.seen.at(-1)!;
    assert.equal(seen.url, '/results');
    assert.equal(seen.headers['content-type'], 'application/x-ndjson');
    assert.equal(seen.headers['content-encoding'], 'gzip');
    assert.equal(seen.headers['x-worker-id'], 'nat-7');
    assert.equal(seen.headers['user-agent'], 'hopmap-worker/test');
    assert.equal(seen.headers['x-hopmap-gateway-key'], keyId);
    assert.equal(decodeURIComponent(String(seen.headers['x-hopmap-gateway-key-name'])), 'pi ärrä');
    assert.equal(seen.headers.authorization, `Bearer ${key}`, 'the upstream checks the same key');
    assert.equal(seen.headers.cookie, undefined);
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('sends a batch to the other instance when the first answers 503, even one that answered before reading it', async () => {
    a.mode = 'busy';
    const url = await manager({ output: [a, b] });
    const body = Buffer.from(
      JSON.stringify([
        { id: 'r1', target: '20.0.0.1' },
        { id: 'r2', target: '20.0.0.2' },
      ]),
    );
    const before = { a: a.seen.length, b: b.seen.length };
    const res = await request(`${url}/gateway`, {
      method: 'POST',
      body,
      headers: { ...auth(), 'content-type': 'application/json' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(a.seen.length - before.a, 1, 'tried the busy one first');
    assert.equal(b.seen.length - before.b, 1);
    assert.ok(b.seen.at(-1)!.body.equals(body), 'the retry carried the same bytes');
    assert.equal(b.seen.at(-1)!.url, '/results', "POST /gateway is the worker's output_file URL as it is");
  });

  it('passes the last 503 through, and does not replay a body larger than it keeps', async () => {
    a.mode = 'busy';
    b.mode = 'busy';
    const both = await manager({ output: [a, b] });
    const res = await request(`${both}/gateway/results`, {
      method: 'POST',
      body: '[]',
      headers: { ...auth(), 'content-type': 'application/json' },
    });
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '7');
    assert.equal(res.json().error.message, 'busy upstream');

    b.mode = 'ok';
    const small = await manager({ output: [a, b] }, { replayBytes: 1024 });
    const before = b.seen.length;
    const big = await request(`${small}/gateway/results`, {
      method: 'POST',
      body: JSON.stringify([{ pad: 'x'.repeat(4096) }]),
      headers: { ...auth(), 'content-type': 'application/json' },
    });
    assert.equal(big.status, 503, 'not kept, so not sent twice: the worker keeps it spooled and retries');
    assert.equal(b.seen.length, before);
    a.mode = 'ok';
  });

  it('answers 413 past the body limit, with or without a content length, and sends nothing on', async () => {
    const url = await manager({ output: [a] }, { maxBodyBytes: 64 * 1024 });
    const before = a.seen.length;
    const big = randomBytes(100 * 1024);
    const sized = await request(`${url}/gateway/results`, {
      method: 'POST',
      body: big,
      headers: { ...auth(), 'content-type': 'application/x-ndjson' },
    });
    assert.equal(sized.status, 413);
    assert.equal(sized.json().error.code, 'payload_too_large');
    assert.equal(a.seen.length, before);

    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        `${url}/gateway/results`,
        {
          method: 'POST',
          agent: false,
          headers: { ...auth(), 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write(big.subarray(0, 16 * 1024));
      req.end();
    });
    assert.equal(chunked, 413, 'a chunked body over the limit');
    assert.equal(a.seen.slice(before).length, 0, 'no upstream took a whole body over the limit');
  });

  it('drops the upstream request when the worker goes away mid-body, and carries on', async () => {
    const url = await manager({ output: [a] });
    const before = a.seen.length;
    a.receiving = 0;
    const req = http.request(`${url}/gateway/results`, {
      method: 'POST',
      agent: false,
      headers: { ...auth(), 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked' },
    });
    req.on('error', () => {});
    req.write(randomBytes(16 * 1024));
    for (let i = 0; i < 200 && a.receiving === 0; i++) await sleep(10);
    assert.ok(a.receiving > 0);
    req.destroy();
    await sleep(200);
    assert.equal(a.seen.length, before, 'the upstream never saw a complete body');
    const next = await request(`${url}/gateway/results`, {
      method: 'POST',
      body: '{"id":1}\n',
      headers: { ...auth(), 'content-type': 'application/x-ndjson' },
    });
    assert.equal(next.status, 200);
  });

  it('keeps the query string and consumer id of a targets request, and names the client when it sent none', async () => {
    const url = await manager({ input: [a] });
    await request(`${url}/gateway/targets?n=7&consumer=abc`, { headers: auth() });
    assert.equal(a.seen.at(-1)!.url, '/targets?n=7&consumer=abc');
    assert.equal(a.seen.at(-1)!.headers['x-consumer-id'], undefined);
    await request(`${url}/gateway/targets?n=3`, { headers: { ...auth(), 'x-consumer-id': 'pi-9' } });
    assert.equal(a.seen.at(-1)!.headers['x-consumer-id'], 'pi-9');
    await request(`${url}/gateway/targets?n=3`, { headers: auth() });
    assert.equal(
      a.seen.at(-1)!.headers['x-consumer-id'],
      '127.0.0.1',
      "a name unfit for a header: the worker's address, not the manager's, keys its cursor",
    );
    const named = await createKey(pool, { name: 'pi-kitchen', role: 'worker' });
    await request(`${url}/gateway/targets?n=3`, { headers: { authorization: `Bearer ${named.key}` } });
    assert.equal(
      a.seen.at(-1)!.headers['x-consumer-id'],
      'pi-kitchen',
      "the key's name, as an input with keys would take it",
    );
  });

  it('lets a feeder key post hops only, and admits an admin key everywhere', async () => {
    const url = await manager({ input: [a], output: [a] });
    const feeder = (await createKey(pool, { name: 'output-1', role: 'feeder' })).key;
    const admin = (await createKey(pool, { name: 'operator', role: 'admin' })).key;
    const post = (path: string, k: string) =>
      request(`${url}${path}`, {
        method: 'POST',
        body: '["31.0.0.1"]',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${k}` },
      });
    const before = a.seen.length;
    assert.equal(
      (await request(`${url}/gateway/targets?n=1`, { headers: { authorization: `Bearer ${feeder}` } })).status,
      403,
    );
    assert.equal((await post('/gateway/results', feeder)).status, 403);
    assert.equal((await post('/gateway/hops', key)).status, 403, 'a worker key posts no hops');
    assert.equal(a.seen.length, before, 'nothing refused reached the upstream');
    assert.equal((await post('/gateway/hops', feeder)).status, 200);
    assert.equal((await post('/gateway/hops', admin)).status, 200);
    assert.equal((await post('/gateway/results', admin)).status, 200);
    assert.equal(
      (await request(`${url}/gateway/targets?n=1`, { headers: { authorization: `Bearer ${admin}` } })).status,
      200,
    );
    assert.equal(
      (await request(`${url}/gateway/elsewhere`)).status,
      401,
      'an unknown gateway path asks for a key first',
    );
  });

  it('says when no instance is known (503) or none can be reached (502)', async () => {
    const none = await manager({});
    const res = await request(`${none}/gateway/targets?n=1`, { headers: auth() });
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '30');
    assert.match(res.json().error.message, /no healthy input instance/);

    const dead = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
    const gone = await rawManager({ pool, log: quietLog, findUpstreams: () => Promise.resolve(dead) });
    managers.push(gone);
    const unreachable = await request(`${gone.http.url}/gateway/results`, {
      method: 'POST',
      body: '[]',
      headers: { ...auth(), 'content-type': 'application/json' },
    });
    assert.equal(unreachable.status, 502);
    assert.equal(unreachable.json().error.code, 'upstream_unreachable');
    for (const d of dead) assert.match(unreachable.json().error.message, new RegExp(`${d}: .*ECONNREFUSED`));
  });

  it("works behind the service kit's JSON parser too: a decoded body goes on as plain JSON", async () => {
    const gateway = createGateway({ pool, log: quietLog, findUpstreams: () => Promise.resolve([b.url]) });
    const { app } = createServiceApp({
      identity: makeIdentity('manager', [], 'm'),
      log: quietLog,
      metrics: new ServiceMetrics('manager'),
      routes: (x) => void x.use(gateway.router),
    });
    const kit = { gateway, http: await listen(app, { port: 0, host: '127.0.0.1' }) };
    managers.push(kit);
    const results = [{ id: 'r9', target: '20.0.0.9', note: 'ünïcode' }];
    const res = await request(`${kit.http.url}/gateway/results`, {
      method: 'POST',
      body: gzipSync(JSON.stringify(results)),
      headers: { ...auth(), 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    assert.equal(res.status, 200, res.text);
    const seen = b.seen.at(-1)!;
    assert.equal(seen.headers['content-encoding'], undefined);
    assert.equal(Number(seen.headers['content-length']), seen.body.length);
    assert.deepEqual(JSON.parse(seen.body.toString('utf8')), results);
  });
});
