import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import pg from 'pg';
import { BIN_PATH } from '../../src/version.js';
import { request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { freePort } from '../support/throwaway-postgres.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

/** The certificate a TLS server presents (unverified: it is self-signed), with what the socket negotiated. */
function peerCertificate(port: number): Promise<tls.PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.on('error', reject);
  });
}

// `hopmap manager` as operators run it: HTTPS by default with a self-signed certificate that every instance
// takes from the database, so a load balancer can send a browser to any of them.
describe('hopmap manager: HTTPS by default, one certificate for every instance', { skip }, () => {
  const serverKey = randomBytes(32).toString('base64');
  let db: TestDatabase;
  const managers: Spawned[] = [];
  const ports: number[] = [];

  before(async () => {
    db = await createTestDatabase('manager_cli_tls');
  });
  after(async () => {
    for (const m of managers) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    await Promise.all(managers.map((m) => m.exited));
    await db?.drop();
    await assertNoLeaks();
  });

  it('two instances serve the same self-signed certificate, kept in PostgreSQL with its key sealed; plain HTTP is refused there', async () => {
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      ports.push(port);
      const m = spawnNode([BIN_PATH, 'manager', '--host', '127.0.0.1', '--port', String(port), '--no-migrate'], {
        DATABASE_URL: db.url,
        SERVER_KEY: serverKey,
        LOG_LEVEL: 'info',
      });
      managers.push(m);
      await m.waitFor(/manager ready/, 60_000);
    }
    const [a, b] = await Promise.all(ports.map(peerCertificate));
    assert.equal(a!.fingerprint256, b!.fingerprint256, 'the same certificate on both instances');
    assert.equal(a!.subject.CN, 'localhost');
    assert.match(a!.subjectaltname ?? '', /DNS:localhost/);

    const client = new pg.Client(db.url);
    await client.connect();
    try {
      const { rows } = await client.query<{ source: string; cert_pem: string; key_sealed: string }>(
        `select source, cert_pem, key_sealed from manager.tls_certificates`,
      );
      assert.equal(rows.length, 1, 'made once, by whichever instance came first');
      assert.equal(rows[0]!.source, 'self-signed');
      assert.ok(!rows[0]!.key_sealed.includes('PRIVATE KEY'), 'the private key is sealed, not stored in the clear');
    } finally {
      await client.end();
    }
    await assert.rejects(request(`http://127.0.0.1:${ports[0]}/service-info`), 'no plain HTTP on the HTTPS port');

    for (const m of managers) m.child.kill('SIGTERM');
    for (const m of managers) assert.equal((await m.exited).code, 0, m.output());
  });
});
