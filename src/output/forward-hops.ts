import type { Logger } from '../log/create-logger.js';

/**
 * `--input-url`: new hops also go to an input service's POST /hops, after the results are committed (the
 * shared tables already have them; this serves a split deployment whose input uses another database).
 * Best effort: a failure is logged, the results stay stored.
 */
export function forwardHops(inputUrl: string, log: Logger): (hops: string[]) => void {
  const url = `${inputUrl.replace(/\/$/, '')}/hops`;
  return (hops) => {
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hops }), signal: AbortSignal.timeout(10_000) })
      .then(async (res) => {
        await res.body?.cancel();
        if (!res.ok) log.warn({ status: res.status, hops: hops.length }, `POST ${url} failed`);
      })
      .catch((err: Error) => log.warn({ err: err.message, hops: hops.length }, `POST ${url} failed`));
  };
}
