import type { FetchLike } from './dyfi-update.js';

/**
 * Whether the instance at `url` is up and staying: its /health answers 200 within the timeout and it is not
 * draining (an instance shutting down still answers /health, but the name should move now).
 */
export async function holderAlive(url: string, fetcher: FetchLike, timeoutMs = 2_000): Promise<boolean> {
  try {
    const res = await fetcher(`${url.replace(/\/+$/, '')}/health`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (res.status !== 200) return false;
    try {
      return (JSON.parse(text) as { status?: string }).status !== 'draining';
    } catch {
      return true;
    }
  } catch {
    return false;
  }
}
