import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `<baseUrl>/ready` until it answers 200 or `timeoutMs` passes; resolves whether it became ready. An
 * https URL is a local service with a self-signed certificate (the manager under `up`), so it is not verified.
 */
export async function waitUntilReady(baseUrl: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await readyStatus(`${baseUrl}/ready`)) === 200) return true;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  return false;
}

async function readyStatus(url: string): Promise<number> {
  if (!url.startsWith('https:')) {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.status;
  }
  return new Promise((resolve, reject) => {
    const req = https.get(url, { rejectUnauthorized: false, timeout: 2_000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
