import { namespacePrefix } from '../../src/lab/plan-lab.js';
import { run } from '../../src/lab/run-ip.js';

async function ip(args: string[]): Promise<string> {
  const res = await run('ip', args);
  if (res.code !== 0) throw new Error(`ip ${args.join(' ')} failed: ${res.stderr.trim()}`);
  return res.stdout;
}

/**
 * Creates the network namespace `hm-<lab>-up` with only `lo` up, and checks that it has no other interface
 * and no route beyond loopback: whatever runs in it gets "Network is unreachable" for any other address, so
 * a test that probes the bootstrap targets there sends nothing off the machine. Named like a lab's, so
 * `teardownLab(lab)` removes it and `removeStaleTestLabs` removes leftovers of runs that died.
 */
export async function createLoopbackNamespace(lab: string): Promise<string> {
  const ns = `${namespacePrefix(lab)}up`;
  await ip(['netns', 'add', ns]);
  await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  const links = (await ip(['-n', ns, '-o', 'link', 'show'])).trim().split('\n');
  if (links.length !== 1 || !/^\d+: lo:/.test(links[0]!))
    throw new Error(`namespace ${ns} has more than lo:\n${links.join('\n')}`);
  for (const family of ['-4', '-6']) {
    const routes = (await ip(['-n', ns, family, 'route', 'show', 'table', 'all'])).trim().split('\n').filter(Boolean);
    const offLoopback = routes.filter((r) => !/\bdev lo\b/.test(r));
    if (offLoopback.length > 0)
      throw new Error(`namespace ${ns} has routes beyond loopback:\n${offLoopback.join('\n')}`);
  }
  return ns;
}

/** The command line that runs `node --import tsx <args>` inside `ns` (for spawnNode's `command`). */
export function nodeInNamespace(ns: string, args: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, process.execPath, '--import', 'tsx', ...args];
}

/** GETs `url` from inside `ns` (the test's own process cannot reach the namespace's loopback). */
export async function fetchInNamespace(ns: string, url: string): Promise<{ status: number; body: string }> {
  const script = `fetch(${JSON.stringify(url)}).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })))`;
  const res = await run('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { timeoutMs: 20_000 });
  if (res.code !== 0) throw new Error(`fetching ${url} in ${ns} failed: ${res.stderr.trim()}`);
  return JSON.parse(res.stdout) as { status: number; body: string };
}
