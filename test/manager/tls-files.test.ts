import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { Pool } from '../../src/db/create-pool.js';
import { readCertificateFiles } from '../../src/manager/tls/certificate-files.js';
import { createSelfSignedCertificate, type CertificatePair } from '../../src/manager/tls/self-signed-certificate.js';
import { startManagerTls } from '../../src/manager/tls/start-manager-tls.js';
import { aesGcmSealer } from '../fixtures/aes-gcm-sealer.js';
import { peerCertificate } from '../fixtures/tls-peer.js';
import { assertNoLeaks } from '../support/leaks.js';
import { until } from '../support/until.js';

/** Replaces a file the way certbot's deploy hooks and cert-manager do: write aside, rename over. */
async function replace(path: string, text: string): Promise<void> {
  await writeFile(`${path}.new`, text);
  await rename(`${path}.new`, path);
}

const serialOf = (pair: CertificatePair) => new X509Certificate(pair.cert).serialNumber;

describe('TLS from certificate and key files', () => {
  let dir: string;
  let first: CertificatePair;
  let second: CertificatePair;
  const certPath = () => join(dir, 'fullchain.pem');
  const keyPath = () => join(dir, 'privkey.pem');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hopmap-tls-files-'));
    first = await createSelfSignedCertificate(['manager.example.net']);
    second = await createSelfSignedCertificate(['manager.example.net']);
    await writeFile(certPath(), first.cert);
    await writeFile(keyPath(), first.key);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('refuses a certificate with a key that is not its own', async () => {
    await writeFile(join(dir, 'other-key.pem'), second.key);
    await assert.rejects(
      readCertificateFiles(certPath(), join(dir, 'other-key.pem')),
      /key values mismatch|KEY_VALUES_MISMATCH/i,
    );
  });

  it('serves the files and swaps to new ones when they change, keeping the old pair while they do not match', async () => {
    const lines: string[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }),
    );
    // A file source never touches the database.
    const tls = await startManagerTls({
      pool: {} as Pool,
      sealer: aesGcmSealer(),
      source: { kind: 'file', certPath: certPath(), keyPath: keyPath() },
      log,
      pollMs: 50,
    });
    const server = https.createServer({ ...tls.current() }, (_req, res) => res.end('ok'));
    tls.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      assert.equal((await peerCertificate(server, 'manager.example.net')).serial, serialOf(first));

      await replace(certPath(), second.cert); // the key still belongs to the first certificate
      await until('the mismatch to be logged', () =>
        lines.some((l) => l.includes('certificate files do not load')) ? true : undefined,
      );
      assert.equal(
        (await peerCertificate(server, 'manager.example.net')).serial,
        serialOf(first),
        'the old pair is still served',
      );

      await replace(keyPath(), second.key);
      await until('the new certificate to be served', async () =>
        (await peerCertificate(server, 'manager.example.net')).serial === serialOf(second) ? true : undefined,
      );
      assert.ok(lines.some((l) => l.includes('certificate files changed')));
    } finally {
      tls.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
