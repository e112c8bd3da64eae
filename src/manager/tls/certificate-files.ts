import { unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { Logger } from '../../log/create-logger.js';
import type { CertificatePair } from './self-signed-certificate.js';

/** Reads a certificate and key, and checks they form a usable pair (a mismatched key throws here, not at a client's handshake). */
export async function readCertificateFiles(certPath: string, keyPath: string): Promise<CertificatePair> {
  const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  createSecureContext({ cert, key });
  return { cert, key };
}

/**
 * Rereads the pair when either file changes (certbot and cert-manager replace them in place or by symlink).
 * stat polling rather than fs.watch, which loses track of a file replaced by rename. A pair that does not
 * load (the second file not written yet) is logged and the next change retried; the old pair stays served.
 */
export function watchCertificateFiles(opts: {
  certPath: string;
  keyPath: string;
  intervalMs?: number;
  /** The pair already served, so an unchanged reread is not reported. */
  initial?: CertificatePair;
  log: Logger;
  onChange: (pair: CertificatePair) => void;
}): { stop(): void } {
  let last = opts.initial ? opts.initial.cert + opts.initial.key : '';
  const reload = () => {
    readCertificateFiles(opts.certPath, opts.keyPath)
      .then((pair) => {
        if (pair.cert + pair.key === last) return;
        last = pair.cert + pair.key;
        opts.onChange(pair);
        opts.log.info({ cert: opts.certPath }, 'certificate files changed; serving the new pair');
      })
      .catch((err: Error) =>
        opts.log.warn(
          { err: { message: err.message }, cert: opts.certPath, key: opts.keyPath },
          'certificate files do not load; still serving the previous pair',
        ),
      );
  };
  const interval = opts.intervalMs ?? 5_000;
  watchFile(opts.certPath, { interval, persistent: false }, reload);
  watchFile(opts.keyPath, { interval, persistent: false }, reload);
  return {
    stop() {
      unwatchFile(opts.certPath, reload);
      unwatchFile(opts.keyPath, reload);
    },
  };
}
