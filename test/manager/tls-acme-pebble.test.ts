/**
 * Real ACME issuance against pebble, Let's Encrypt's test CA (Debian package `pebble`). Nothing leaves the
 * machine: pebble listens on loopback, resolves manager.hopmap.test through a DNS stand-in that answers
 * 127.0.0.1, and validates HTTP-01 by fetching the token from our challenge handler on its own port.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Server } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import type { Runner } from 'graphile-worker';
import { createPool, type Pool } from '../../src/db/create-pool.js';
import { startJobRunner } from '../../src/jobs/start-job-runner.js';
import { acmeChallengeHandler } from '../../src/manager/tls/acme-challenge-handler.js';
import {
  certificateJobs,
  requestCertificateRenewal,
  RENEW_CERTIFICATE_TASK,
} from '../../src/manager/tls/renew-certificate-task.js';
import { startManagerTls, type ManagerTls } from '../../src/manager/tls/start-manager-tls.js';
import type { TlsSource } from '../../src/manager/tls/tls-config.js';
import { aesGcmSealer } from '../fixtures/aes-gcm-sealer.js';
import { startDnsStandIn } from '../fixtures/dns-stand-in.js';
import { pebbleInstalled, startPebble, type Pebble } from '../fixtures/pebble-ca.js';
import { peerCertificate } from '../fixtures/tls-peer.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { until } from '../support/until.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'pebble');

/** ACME rounds through pebble take seconds, not milliseconds. */
const waitFor = <T>(what: string, fn: () => Promise<T | undefined>) =>
  until(what, fn, { timeoutMs: 60_000, everyMs: 100 });

const DOMAIN = 'manager.hopmap.test';
const DAY_MS = 86_400_000;

describe('TLS by ACME, issued for real by pebble', { skip }, () => {
  let db: TestDatabase;
  let pool: Pool;
  let dns: Awaited<ReturnType<typeof startDnsStandIn>>;
  let pebble: Pebble;
  let challengeServer: Server;
  const challengeRequests: string[] = [];
  let runner: Runner;
  let tls: ManagerTls;
  let httpsServer: https.Server;
  let source: TlsSource & { kind: 'acme' };
  const sealer = aesGcmSealer();
  /** The renewal job's clock; tests move it towards the certificate's expiry. */
  let clock = () => new Date();

  /** Runs the renewal job on graphile-worker and waits for it to finish; fails with the job's error. */
  async function runRenewalJob(): Promise<void> {
    await requestCertificateRenewal(pool);
    await waitFor('the renewal job to finish', async () => {
      const { rows } = await pool.query<{ last_error: string | null; attempts: number }>(
        'select last_error, attempts from graphile_worker.jobs where task_identifier = $1',
        [RENEW_CERTIFICATE_TASK],
      );
      if (rows[0]?.last_error) assert.fail(`renewal job failed: ${rows[0].last_error}`);
      return rows.length === 0 ? true : undefined;
    });
  }

  const acmeRows = async () =>
    (
      await pool.query<{ id: string; cert_pem: string; key_sealed: string }>(
        `select id, cert_pem, key_sealed from manager.tls_certificates where domain = $1 and source = 'acme' order by id`,
        [DOMAIN],
      )
    ).rows;

  before(async () => {
    assert.ok(pebbleInstalled(), 'install pebble (apt-get install pebble): this test issues certificates from it');
    db = await createTestDatabase('tls_acme');
    pool = createPool(db.url, quietLog);
    dns = await startDnsStandIn();

    const app = express();
    app.use((req, _res, next) => (challengeRequests.push(req.path), next()));
    app.get('/.well-known/acme-challenge/:token', acmeChallengeHandler(pool));
    challengeServer = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    pebble = await startPebble({ httpPort: (challengeServer.address() as AddressInfo).port, dnsPort: dns.port });
    source = {
      kind: 'acme',
      acme: {
        domain: DOMAIN,
        email: 'ops@hopmap.test',
        directoryUrl: pebble.directoryUrl,
        caPem: pebble.apiCaPem,
        selfCheck: false,
        pollMs: 200,
      },
    };
  });

  after(async () => {
    tls?.stop();
    if (httpsServer) await new Promise<void>((resolve) => httpsServer.close(() => resolve()));
    await runner?.stop();
    await pebble?.stop();
    if (challengeServer) await new Promise<void>((resolve) => challengeServer.close(() => resolve()));
    await dns?.stop();
    await pool?.end();
    await db?.drop();
    await assertNoLeaks();
  });

  it('serves a self-signed stand-in at first, then the certificate the renewal job obtained', async () => {
    tls = await startManagerTls({ pool, sealer, source, log: quietLog, pollMs: 100 });
    httpsServer = https.createServer({ ...tls.current() }, (_req, res) => res.end('ok'));
    tls.attach(httpsServer);
    await new Promise<void>((resolve) => httpsServer.listen(0, '127.0.0.1', resolve));
    const standIn = await peerCertificate(httpsServer, DOMAIN, pebble.rootPem);
    assert.equal(standIn.authorized, false, 'the stand-in is not from pebble');
    assert.equal(standIn.issuerCN, DOMAIN);

    // startManagerTls queued the job (no ACME certificate yet); a runner with the renewal task picks it up.
    runner = await startJobRunner({
      pool,
      log: quietLog,
      ...certificateJobs({ pool, sealer, source, log: quietLog, now: () => clock() }),
    });
    await waitFor('the renewal job to finish', async () => {
      const { rows } = await pool.query<{ last_error: string | null }>(
        'select last_error from graphile_worker.jobs where task_identifier = $1',
        [RENEW_CERTIFICATE_TASK],
      );
      if (rows[0]?.last_error) assert.fail(`renewal job failed: ${rows[0].last_error}`);
      return rows.length === 0 ? true : undefined;
    });

    const tokens = challengeRequests.filter((p) => p.startsWith('/.well-known/acme-challenge/'));
    assert.ok(tokens.length >= 1, 'pebble fetched the HTTP-01 token from our handler');
    assert.ok(
      dns.queries.some((q) => q.startsWith(`${DOMAIN} `)),
      'pebble resolved the name through the stand-in',
    );
    assert.equal(
      Number((await pool.query('select count(*) from manager.acme_challenges')).rows[0].count),
      0,
      'challenge answers are removed',
    );

    const rows = await acmeRows();
    assert.equal(rows.length, 1);
    const sealed = rows[0]!.key_sealed;
    assert.ok(
      !sealed.includes('PRIVATE KEY') && !Buffer.from(sealed, 'base64').toString('latin1').includes('PRIVATE KEY'),
      'the certificate key is not stored in the clear',
    );
    assert.ok(new X509Certificate(rows[0]!.cert_pem).checkPrivateKey(createPrivateKey(sealer.open(sealed))));
    const account = (
      await pool.query<{ key_sealed: string; account_url: string | null }>(
        'select key_sealed, account_url from manager.acme_accounts',
      )
    ).rows;
    assert.equal(account.length, 1);
    assert.ok(!account[0]!.key_sealed.includes('PRIVATE KEY'), 'the account key is not stored in the clear');
    assert.match(
      account[0]!.account_url ?? '',
      /^https:\/\/127\.0\.0\.1:\d+\//,
      'the account URL is kept for the next order',
    );

    const served = await waitFor('the issued certificate to be served', async () => {
      const peer = await peerCertificate(httpsServer, DOMAIN, pebble.rootPem);
      return peer.authorized ? peer : undefined;
    });
    assert.equal(served.altNames, `DNS:${DOMAIN}`);
    assert.match(served.issuerCN, /^Pebble Intermediate CA /);
  });

  it('the renewal job does nothing while more than 30 days remain, and renews when fewer do', async () => {
    const [issued] = await acmeRows();
    const notAfter = new Date(new X509Certificate(issued!.cert_pem).validTo);
    const validations = challengeRequests.length;
    const servedBefore = await peerCertificate(httpsServer, DOMAIN, pebble.rootPem);

    clock = () => new Date(notAfter.getTime() - 31 * DAY_MS);
    await runRenewalJob();
    assert.equal((await acmeRows()).length, 1, 'no new certificate with 31 days left');
    assert.equal(challengeRequests.length, validations, 'no order was placed');

    clock = () => new Date(notAfter.getTime() - 29 * DAY_MS);
    await runRenewalJob();
    const rows = await acmeRows();
    assert.equal(rows.length, 2, 'a new certificate with 29 days left');
    // Not asserted: a fresh HTTP-01 validation. An ACME CA may reuse the account's still-valid authorization
    // (Let's Encrypt does for 30 days), and pebble does so now and then even with PEBBLE_AUTHZREUSE=0: it makes
    // a new authorization only when rand.Intn(100) > the percentage, so 1 order in 100 reuses one (this
    // test's one failure). The new order is shown by the new certificate, served below.
    const renewed = await waitFor('the renewed certificate to be served', async () => {
      const peer = await peerCertificate(httpsServer, DOMAIN, pebble.rootPem);
      return peer.serial !== servedBefore.serial ? peer : undefined;
    });
    assert.equal(renewed.authorized, true);
    assert.equal(renewed.serial, new X509Certificate(rows[1]!.cert_pem).serialNumber);
  });
});
