import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { ensureSelfSignedCertificate } from '../../src/manager/tls/ensure-self-signed-certificate.js';
import { renewCertificateIfDue } from '../../src/manager/tls/renew-certificate-task.js';
import { startManagerTls, type ManagerTls } from '../../src/manager/tls/start-manager-tls.js';
import { aesGcmSealer } from '../fixtures/aes-gcm-sealer.js';
import { peerCertificate } from '../fixtures/tls-peer.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { until } from '../support/until.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const DAY_MS = 86_400_000;

/** `viaSetter`: attach as the service kit does, through a setSecureContext function rather than the server. */
function listenHttps(tls: ManagerTls, viaSetter = false): Promise<https.Server> {
  const server = https.createServer({ ...tls.current() }, (_req, res) => res.end('ok'));
  tls.attach(viaSetter ? (pair) => server.setSecureContext(pair) : server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const close = (server: https.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('self-signed TLS certificate kept in PostgreSQL', { skip }, () => {
  let db: TestDatabase;
  const pools: Pool[] = [];
  const sealer = aesGcmSealer();

  before(async () => {
    db = await createTestDatabase('tls_self_signed');
    for (let i = 0; i < 3; i++) pools.push(createPool(db.url, quietLog));
  });

  after(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await db.drop();
    await assertNoLeaks();
  });

  it('three instances starting at once make one certificate, with its key sealed', async () => {
    const made = await Promise.all(pools.map((pool) => ensureSelfSignedCertificate(pool, sealer, 'localhost')));
    assert.deepEqual(new Set(made.map((c) => c.id)).size, 1, 'every instance got the same certificate');
    const { rows } = await pools[0]!.query<{ key_sealed: string; cert_pem: string }>(
      `select key_sealed, cert_pem from manager.tls_certificates where domain = 'localhost'`,
    );
    assert.equal(rows.length, 1);
    const sealed = rows[0]!.key_sealed;
    assert.ok(
      !sealed.includes('PRIVATE KEY') && !Buffer.from(sealed, 'base64').toString('latin1').includes('PRIVATE KEY'),
      'the key is not stored in the clear',
    );
    const cert = new X509Certificate(rows[0]!.cert_pem);
    assert.ok(
      cert.checkPrivateKey(createPrivateKey(sealer.open(sealed))),
      "the sealed key opens to the certificate's key",
    );
    assert.equal(cert.subject, 'CN=localhost');
    assert.match(cert.subjectAltName ?? '', /DNS:localhost.*IP Address:127\.0\.0\.1/);
  });

  it('is served over HTTPS and verifies for localhost when the client trusts it', async () => {
    const tls = await startManagerTls({
      pool: pools[0]!,
      sealer,
      source: { kind: 'self-signed', domain: 'localhost' },
      log: quietLog,
    });
    const server = await listenHttps(tls);
    try {
      const peer = await peerCertificate(server, 'localhost', tls.current().cert);
      assert.equal(peer.authorized, true, `verification failed: ${peer.authorizationError}`);
      assert.equal(peer.subjectCN, 'localhost');
      assert.equal(peer.issuerCN, 'localhost', 'self-signed: issuer is the subject');
    } finally {
      tls.stop();
      await close(server);
    }
  });

  it('is renewed only when fewer than 30 days remain, and every running instance swaps to the new one', async () => {
    const instances = await Promise.all(
      pools.slice(0, 2).map((pool) =>
        startManagerTls({
          pool,
          sealer,
          source: { kind: 'self-signed', domain: 'localhost' },
          log: quietLog,
          pollMs: 100,
        }),
      ),
    );
    const servers = await Promise.all(instances.map((tls, k) => listenHttps(tls, k === 1)));
    try {
      const before = await Promise.all(servers.map((s) => peerCertificate(s, 'localhost')));
      assert.equal(before[0]!.serial, before[1]!.serial);
      const stored = await ensureSelfSignedCertificate(pools[2]!, sealer, 'localhost');

      assert.equal(
        await renewCertificateIfDue(
          pools[2]!,
          sealer,
          { kind: 'self-signed', domain: 'localhost' },
          quietLog,
          new Date(stored.notAfter.getTime() - 31 * DAY_MS),
        ),
        'still-valid',
      );
      const count = async () =>
        Number((await pools[0]!.query('select count(*) from manager.tls_certificates')).rows[0].count);
      assert.equal(await count(), 1, 'nothing new while 31 days remain');

      assert.equal(
        await renewCertificateIfDue(
          pools[2]!,
          sealer,
          { kind: 'self-signed', domain: 'localhost' },
          quietLog,
          new Date(stored.notAfter.getTime() - 29 * DAY_MS),
        ),
        'renewed',
      );
      assert.equal(await count(), 2);
      const after = await Promise.all(
        servers.map((s) =>
          until('the new certificate to be served', async () => {
            const peer = await peerCertificate(s, 'localhost');
            return peer.serial !== before[0]!.serial ? peer : undefined;
          }),
        ),
      );
      assert.equal(after[0]!.serial, after[1]!.serial, 'both instances serve the same renewed certificate');
    } finally {
      for (const tls of instances) tls.stop();
      await Promise.all(servers.map(close));
    }
  });
});
