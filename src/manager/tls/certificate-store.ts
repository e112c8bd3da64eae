import { X509Certificate } from 'node:crypto';
import type pg from 'pg';
import { int8 } from '../../db/int8.js';
import type { tlsCertificates } from '../../db/schema/manager.js';
import type { TableRow } from '../../db/table-row.js';
import type { Sealer } from './sealer.js';
import type { CertificatePair } from './self-signed-certificate.js';

export type CertificateSource = 'self-signed' | 'acme' | 'file';

export interface StoredCertificate extends CertificatePair {
  id: number;
  domain: string;
  source: CertificateSource;
  notBefore: Date;
  notAfter: Date;
}

/** Anything that runs a query: a pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

/** The validity of the first (leaf) certificate of a PEM chain. */
export function certificateDates(certPem: string): { notBefore: Date; notAfter: Date } {
  const leaf = new X509Certificate(certPem);
  return { notBefore: new Date(leaf.validFrom), notAfter: new Date(leaf.validTo) };
}

/**
 * Stores a certificate with its key sealed, so every instance can serve it; expired ones of the domain go.
 * Returns the new row's id.
 */
export async function saveCertificate(
  db: Queryable,
  sealer: Sealer,
  domain: string,
  source: CertificateSource,
  pair: CertificatePair,
): Promise<number> {
  const { notBefore, notAfter } = certificateDates(pair.cert);
  const { rows } = await db.query<Pick<CertificateRow, 'id'>>(
    `insert into manager.tls_certificates (domain, source, cert_pem, key_sealed, not_before, not_after)
     values ($1, $2, $3, $4, $5, $6) returning id`,
    [domain, source, pair.cert, sealer.seal(pair.key), notBefore, notAfter],
  );
  await db.query('delete from manager.tls_certificates where domain = $1 and not_after < now()', [domain]);
  return int8(rows[0]!.id);
}

type CertificateRow = Pick<
  TableRow<typeof tlsCertificates>,
  'id' | 'domain' | 'cert_pem' | 'key_sealed' | 'not_before' | 'not_after'
> & { source: CertificateSource };

/**
 * The certificate instances serve for `domain`: the newest of source `prefer` when there is one, else the
 * newest of any source (an ACME domain serves its self-signed stand-in until the first issuance); or null.
 */
export async function currentCertificate(
  db: Queryable,
  sealer: Sealer,
  domain: string,
  prefer?: CertificateSource,
): Promise<StoredCertificate | null> {
  const { rows } = await db.query<CertificateRow>(
    `select id, domain, source, cert_pem, key_sealed, not_before, not_after from manager.tls_certificates
     where domain = $1 order by source = $2 desc, created_at desc, id desc limit 1`,
    [domain, prefer ?? null],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    id: int8(row.id),
    domain: row.domain,
    source: row.source,
    cert: row.cert_pem,
    key: sealer.open(row.key_sealed).toString('utf8'),
    notBefore: row.not_before,
    notAfter: row.not_after,
  };
}

/** The id of the certificate `currentCertificate` would return, without opening its key: cheap to poll. */
export async function currentCertificateId(
  db: Queryable,
  domain: string,
  prefer?: CertificateSource,
): Promise<number | null> {
  const { rows } = await db.query<Pick<CertificateRow, 'id'>>(
    'select id from manager.tls_certificates where domain = $1 order by source = $2 desc, created_at desc, id desc limit 1',
    [domain, prefer ?? null],
  );
  return rows[0] ? int8(rows[0].id) : null;
}
