import type { Logger } from '../../log/create-logger.js';
import {
  currentCertificate,
  currentCertificateId,
  type CertificateSource,
  type Queryable,
  type StoredCertificate,
} from './certificate-store.js';
import type { Sealer } from './sealer.js';

export interface StoredCertificateWatch {
  /** Polls now; resolves true when a new certificate was loaded. */
  check(): Promise<boolean>;
  stop(): void;
}

/**
 * Polls which certificate is current for `domain` and hands a new one to `onChange`. Polling, not LISTEN:
 * certificates are renewed 30 days before they expire, so a minute's delay costs nothing, and it needs no
 * connection of its own per instance.
 */
export function watchStoredCertificate(opts: {
  db: Queryable;
  sealer: Sealer;
  domain: string;
  prefer?: CertificateSource;
  /** The id already served, if any. */
  knownId?: number;
  intervalMs?: number;
  log: Logger;
  onChange: (cert: StoredCertificate) => void;
}): StoredCertificateWatch {
  let knownId = opts.knownId ?? null;
  let running: Promise<boolean> | undefined;
  const poll = async (): Promise<boolean> => {
    const id = await currentCertificateId(opts.db, opts.domain, opts.prefer);
    if (id === null || id === knownId) return false;
    const cert = await currentCertificate(opts.db, opts.sealer, opts.domain, opts.prefer);
    if (!cert) return false;
    knownId = cert.id;
    opts.onChange(cert);
    opts.log.info(
      { domain: opts.domain, source: cert.source, notAfter: cert.notAfter.toISOString() },
      'serving a new certificate',
    );
    return true;
  };
  const check = () => (running ??= poll().finally(() => (running = undefined)));
  const timer = setInterval(() => {
    check().catch((err: Error) =>
      opts.log.warn({ err: { message: err.message } }, 'certificate poll failed; will retry'),
    );
  }, opts.intervalMs ?? 60_000);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
