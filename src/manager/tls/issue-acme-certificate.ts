import * as acme from 'acme-client';
import type { Pool } from '../../db/create-pool.js';
import type { Logger } from '../../log/create-logger.js';
import { acmeAccount, saveAcmeAccountUrl } from './acme-account.js';
import { removeAcmeChallenge, saveAcmeChallenge } from './acme-challenge-handler.js';
import { currentCertificate, saveCertificate, type StoredCertificate } from './certificate-store.js';
import type { Sealer } from './sealer.js';
import { trustAcmeCa } from './trust-acme-ca.js';

export const LETSENCRYPT_DIRECTORY = acme.directory.letsencrypt.production;
export const LETSENCRYPT_STAGING_DIRECTORY = acme.directory.letsencrypt.staging;

export interface AcmeOptions {
  domain: string;
  email: string;
  directoryUrl: string;
  /** A CA to trust for the directory's HTTPS (a private CA; pebble's in tests). Public CAs need none. */
  caPem?: string | undefined;
  /**
   * Fetch our own challenge over HTTP before asking the CA to, as acme-client does by default: a failed
   * validation counts against Let's Encrypt's limits. Off where the name does not resolve from here.
   */
  selfCheck?: boolean | undefined;
  /** First wait between polls of an order or challenge (acme-client's default 5 s). */
  pollMs?: number | undefined;
}

/**
 * Orders a certificate for `opts.domain` by HTTP-01 and stores it (key sealed) for every instance to serve.
 * Challenge answers go through acme_challenges, so the CA may reach any instance behind the name.
 */
export async function issueAcmeCertificate(
  pool: Pool,
  sealer: Sealer,
  opts: AcmeOptions,
  log: Logger,
): Promise<StoredCertificate> {
  if (opts.caPem) trustAcmeCa(opts.directoryUrl, opts.caPem);
  const account = await acmeAccount(pool, sealer, opts.directoryUrl, opts.email);
  const client = new acme.Client({
    directoryUrl: opts.directoryUrl,
    accountKey: account.key,
    ...(account.accountUrl ? { accountUrl: account.accountUrl } : {}),
    ...(opts.pollMs ? { backoffMin: opts.pollMs, backoffMax: Math.max(opts.pollMs * 4, 1_000) } : {}),
  });
  const [key, csr] = await acme.crypto.createCsr(
    { commonName: opts.domain, altNames: [opts.domain] },
    await acme.crypto.createPrivateEcdsaKey('P-256'),
  );
  log.info({ domain: opts.domain, directory: opts.directoryUrl }, 'ordering a certificate by ACME http-01');
  const cert = await client.auto({
    csr,
    email: opts.email,
    termsOfServiceAgreed: true,
    challengePriority: ['http-01'],
    skipChallengeVerification: opts.selfCheck === false,
    challengeCreateFn: async (_authz, challenge, keyAuthorization) =>
      saveAcmeChallenge(pool, challenge.token, keyAuthorization),
    challengeRemoveFn: async (_authz, challenge) => removeAcmeChallenge(pool, challenge.token),
  });
  await saveAcmeAccountUrl(pool, account.id, client.getAccountUrl());
  await saveCertificate(pool, sealer, opts.domain, 'acme', { cert, key: key.toString('utf8') });
  const stored = (await currentCertificate(pool, sealer, opts.domain, 'acme'))!;
  log.info({ domain: opts.domain, notAfter: stored.notAfter.toISOString() }, 'ACME certificate issued and stored');
  return stored;
}
