import type { Pool } from '../../db/create-pool.js';
import { inTransaction } from '../../db/in-transaction.js';
import { lockDomainCertificate } from './certificate-lock.js';
import { currentCertificate, saveCertificate, type StoredCertificate } from './certificate-store.js';
import type { Sealer } from './sealer.js';
import { createSelfSignedCertificate } from './self-signed-certificate.js';

export const RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86_400_000;

/** The names a self-signed certificate for `domain` covers: localhost also gets the loopback addresses. */
export function selfSignedNames(domain: string): string[] {
  return domain === 'localhost' ? ['localhost', '127.0.0.1', '::1'] : [domain];
}

/**
 * The self-signed certificate every instance serves for `domain`: the stored one while it has more than 30
 * days left, else a new one, made once under a lock however many instances ask at the same time. `now` is
 * the clock of that decision only; a new certificate always starts at the real time.
 */
export async function ensureSelfSignedCertificate(
  pool: Pool,
  sealer: Sealer,
  domain: string,
  opts: { now?: Date; days?: number } = {},
): Promise<StoredCertificate> {
  const now = opts.now ?? new Date();
  return inTransaction(pool, async (client) => {
    await lockDomainCertificate(client, domain);
    const stored = await currentCertificate(client, sealer, domain, 'self-signed');
    if (stored?.source === 'self-signed' && stored.notAfter.getTime() - now.getTime() > RENEW_BEFORE_DAYS * DAY_MS)
      return stored;
    const pair = await createSelfSignedCertificate(selfSignedNames(domain), { days: opts.days });
    await saveCertificate(client, sealer, domain, 'self-signed', pair);
    return (await currentCertificate(client, sealer, domain, 'self-signed'))!;
  });
}
