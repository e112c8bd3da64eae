import type { Server } from 'node:tls';
import type { Pool } from '../../db/create-pool.js';
import type { Logger } from '../../log/create-logger.js';
import { watchCertificateFiles, readCertificateFiles } from './certificate-files.js';
import { currentCertificate, type StoredCertificate } from './certificate-store.js';
import { ensureSelfSignedCertificate } from './ensure-self-signed-certificate.js';
import { requestCertificateRenewal } from './renew-certificate-task.js';
import type { Sealer } from './sealer.js';
import type { CertificatePair } from './self-signed-certificate.js';
import type { TlsSource } from './tls-config.js';
import { watchStoredCertificate } from './watch-stored-certificate.js';

export type SecureContextSetter = (pair: CertificatePair) => void;

export interface ManagerTls {
  /** The pair to create the HTTPS server with (`https.createServer({ ...tls.current() }, app)`). */
  current(): CertificatePair;
  /**
   * Swaps the certificate whenever a new one is stored or the files change: of a TLS/HTTPS server (through
   * its setSecureContext), or through a setter such as the service kit's `setSecureContext`.
   */
  attach(target: Server | SecureContextSetter): void;
  stop(): void;
}

export interface ManagerTlsOptions {
  pool: Pool;
  sealer: Sealer;
  source: Exclude<TlsSource, { kind: 'off' }>;
  log: Logger;
  /** How often to look for a new certificate (database or files); default 60 s (5 s for files). */
  pollMs?: number;
}

/**
 * Loads the manager's certificate from its configured source and keeps it current. With ACME and nothing
 * issued yet, a self-signed stand-in for the domain is served and a renewal job is queued; the issued
 * certificate replaces it at the next poll on every instance.
 */
export async function startManagerTls(opts: ManagerTlsOptions): Promise<ManagerTls> {
  const log = opts.log.child({ module: 'tls' });
  const setters = new Set<SecureContextSetter>();
  let pair: CertificatePair;
  const swap = (next: CertificatePair) => {
    pair = { cert: next.cert, key: next.key };
    for (const set of setters) set(pair);
  };
  let stop: () => void;

  if (opts.source.kind === 'file') {
    pair = await readCertificateFiles(opts.source.certPath, opts.source.keyPath);
    const watch = watchCertificateFiles({
      certPath: opts.source.certPath,
      keyPath: opts.source.keyPath,
      initial: pair,
      intervalMs: opts.pollMs,
      log,
      onChange: swap,
    });
    stop = () => watch.stop();
  } else {
    const domain = opts.source.kind === 'acme' ? opts.source.acme.domain : opts.source.domain;
    const prefer = opts.source.kind === 'acme' ? 'acme' : 'self-signed';
    let stored: StoredCertificate;
    if (opts.source.kind === 'self-signed') {
      stored = await ensureSelfSignedCertificate(opts.pool, opts.sealer, domain);
    } else {
      const issued = await currentCertificate(opts.pool, opts.sealer, domain, 'acme');
      if (issued?.source !== 'acme' || issued.notAfter < new Date()) await requestCertificateRenewal(opts.pool);
      stored = issued?.source === 'acme' ? issued : await ensureSelfSignedCertificate(opts.pool, opts.sealer, domain);
    }
    pair = { cert: stored.cert, key: stored.key };
    const watch = watchStoredCertificate({
      db: opts.pool,
      sealer: opts.sealer,
      domain,
      prefer,
      knownId: stored.id,
      intervalMs: opts.pollMs,
      log,
      onChange: swap,
    });
    stop = () => watch.stop();
  }

  return {
    current: () => pair,
    attach(target) {
      if (typeof target === 'function') {
        setters.add(target);
        target(pair);
        return;
      }
      const set: SecureContextSetter = (p) => target.setSecureContext(p);
      setters.add(set);
      set(pair);
      target.once('close', () => setters.delete(set));
    },
    stop,
  };
}
