import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createResultSink } from '../../src/worker/result-sinks.js';
import { targetSource } from '../../src/worker/target-source.js';
import { workerConfig } from '../../src/worker/worker-config.js';
import { assertNoLeaks } from '../support/leaks.js';
import { quietLog } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'openssl');

// A manager with a self-signed certificate, as `hopmap manager` makes for local use: the worker trusts it
// only when told to (ca_file), and then for its input and its output alike.
describe('worker: ca_file trusts a self-signed https input and output', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'hopmap-ca-'));
  let server: https.Server;
  let url: string;
  const posted: unknown[] = [];

  before(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    server = https.createServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          res.setHeader('content-type', 'application/json');
          if (req.url?.startsWith('/gateway/targets'))
            return res.end(JSON.stringify({ lease: null, targets: ['198.18.0.1'] }));
          posted.push(...(JSON.parse(body) as unknown[]));
          res.end(JSON.stringify({ accepted: 1, duplicate: 0, rejected: 0 }));
        });
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/gateway`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('without ca_file the certificate is refused; with it targets come and results go', async () => {
    await assert.rejects(targetSource(url, { workerId: 'w1' }).next(1), /self[- ]signed certificate/);
    const untrusting = createResultSink(url, { workerId: 'w1', log: quietLog });
    const refused = await untrusting.send([{ id: 1 }]);
    await untrusting.close();
    assert.equal(refused.ok, false);

    const cfg = workerConfig.parse({ inputFile: url, outputFile: url, caFile: join(dir, 'cert.pem') });
    assert.deepEqual((await targetSource(url, { workerId: 'w1', ca: cfg.caFile }).next(1)).targets, ['198.18.0.1']);
    const sink = createResultSink(url, { workerId: 'w1', ca: cfg.caFile, log: quietLog });
    const sent = await sink.send([{ id: 2 }]);
    await sink.close();
    assert.equal(sent.ok, true, JSON.stringify(sent));
    assert.deepEqual(posted, [{ id: 2 }]);
  });

  it('a ca_file that cannot be read is a configuration error naming the file', () => {
    const parsed = workerConfig.safeParse({ inputFile: url, outputFile: url, caFile: join(dir, 'missing.pem') });
    assert.equal(parsed.success, false);
    assert.match(JSON.stringify(parsed.error?.issues), /cannot read .*missing\.pem/);
  });
});
