import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `<baseUrl>/ready` until it answers 200 or `timeoutMs` passes; resolves whether it became ready. */
export async function waitUntilReady(baseUrl: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  return false;
}
