import type { PoolClient } from '../../db/create-pool.js';

/** Namespace of hopmap's per-domain TLS locks (the two-int advisory lock space, apart from bigint keys). */
const TLS_LOCK_SPACE = 7_271;

/**
 * Serialises work on one domain's certificate across instances until the transaction ends, so that several
 * instances starting at once make one certificate, not one each.
 */
export async function lockDomainCertificate(client: PoolClient, domain: string): Promise<void> {
  await client.query('select pg_advisory_xact_lock($1, hashtext($2))', [TLS_LOCK_SPACE, domain]);
}
