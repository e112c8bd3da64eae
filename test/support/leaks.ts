import assert from 'node:assert/strict';

/** Resource kinds that mean a test left a server, socket, timer loop or child process behind (stdio pipes are the runner's). */
const LEAKY = new Set(['TCPSocketWrap', 'TCPServerWrap', 'ProcessWrap', 'Timeout', 'UDPWrap']);

/**
 * Asserts nothing the test opened is still open. Waits briefly, because closing sockets and ended pools
 * release their handles on the next turns of the event loop.
 */
export async function assertNoLeaks(allowed: Partial<Record<string, number>> = {}): Promise<void> {
  let open: string[] = [];
  for (let i = 0; i < 50; i++) {
    open = process.getActiveResourcesInfo().filter((r) => LEAKY.has(r));
    const counts = countBy(open);
    if (Object.entries(counts).every(([k, n]) => n <= (allowed[k] ?? 0))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`resources left open after the test: ${JSON.stringify(countBy(open))}`);
}

function countBy(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[item] = (out[item] ?? 0) + 1;
  return out;
}
