import type { Logger } from '../log/create-logger.js';

/**
 * `--input-url`: new hops also go to an input service's POST /hops, after the results are committed (the
 * shared tables already have them; this serves a split deployment whose input uses another database).
 * `inputKey` is a feeder key for that input. Best effort: a failure is logged, the results stay stored.
 */
export function forwardHops(inputUrl: string, log: Logger, inputKey?: string): (hops: string[]) => void {
  const url = `${inputUrl.replace(/\/$/, '')}/hops`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (inputKey) headers.authorization = `Bearer ${inputKey}`;
  return (hops) => {
    fetch(url, { method: 'POST', headers, body: JSON.stringify({ hops }), signal: AbortSignal.timeout(10_000) })
      .then(async (res) => {
        if (res.ok) return void (await res.body?.cancel());
        const answer = (await res.text().catch(() => '')).slice(0, 200);
        const refused = res.status === 401 || res.status === 403;
        const hint = !refused
          ? ''
          : inputKey
            ? ': the --input-key is not a usable feeder key'
            : ': the input needs a feeder key, pass --input-key (env HOPMAP_INPUT_KEY)';
        log.warn({ status: res.status, hops: hops.length, answer }, `POST ${url} failed with ${res.status}${hint}`);
      })
      .catch((err: Error) => log.warn({ err: err.message, hops: hops.length }, `POST ${url} failed`));
  };
}
