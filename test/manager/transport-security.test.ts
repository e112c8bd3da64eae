import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { managerService } from '../../src/manager/manager-service.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'openssl');

const scratch = mkdtempSync(join(tmpdir(), 'hopmap-manager-tls-'));

/** A self-signed certificate for `cn` (openssl, as on any Debian machine). */
function selfSigned(cn: string): { key: Buffer; cert: Buffer } {
  const key = join(scratch, `${cn}.key`);
  const cert = join(scratch, `${cn}.crt`);
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
      `/CN=${cn}`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

/** GET over HTTPS on a connection of its own; also says which certificate the server showed. */
function httpsGet(
  url: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; cn: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { rejectUnauthorized: false, agent: false }, (res) => {
      const cn = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN);
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, cn }));
    });
    req.on('error', reject);
  });
}

describe('manager: TLS, Secure cookies and HSTS', { skip }, () => {
  const serverKey = randomBytes(32);
  let db: TestDatabase;
  let tls: RunningService;
  let proxied: RunningService;

  before(async () => {
    db = await createTestDatabase('manager_tls');
    const opts = { databaseUrl: db.url, host: '127.0.0.1', port: 0, log: quietLog };
    tls = await startService(managerService({ serverKey, tls: true }), { ...opts, tls: selfSigned('first.test') });
    proxied = await startService(managerService({ serverKey, cookieSecure: true }), opts);
  });

  after(async () => {
    await tls?.stop();
    await proxied?.stop();
    await db?.drop();
    rmSync(scratch, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('serves HTTPS with a Secure login cookie, HSTS and upgrade-insecure-requests', async () => {
    assert.match(tls.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await httpsGet(`${tls.url}/login`);
    assert.equal(res.status, 200);
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('hopmap.csrf='));
    assert.ok(
      cookie
        ?.split(';')
        .map((s) => s.trim())
        .includes('Secure'),
      cookie,
    );
    assert.match(String(res.headers['strict-transport-security']), /^max-age=31536000$/);
    assert.match(String(res.headers['content-security-policy']), /upgrade-insecure-requests/);
  });

  it('replaces its certificate at run time', async () => {
    assert.equal((await httpsGet(`${tls.url}/health`)).cn, 'first.test');
    tls.setSecureContext!(selfSigned('second.test'));
    assert.equal((await httpsGet(`${tls.url}/health`)).cn, 'second.test');
  });

  it('behind a TLS-terminating proxy (--cookie-secure) marks the login cookie Secure and sends HSTS', async () => {
    const res = await request(`${proxied.url}/login`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(res.status, 200);
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('hopmap.csrf='));
    assert.ok(
      cookie
        ?.split(';')
        .map((s) => s.trim())
        .includes('Secure'),
      cookie,
    );
    assert.ok(res.headers['strict-transport-security']);
    assert.equal(proxied.setSecureContext, undefined, 'plain HTTP has no certificate to replace');
  });
});
