import { readdirSync } from 'node:fs';
import { teardownLab } from '../../src/lab/teardown-lab.js';

/** A lab name for this test process, `<tag><pid>`, so that test files running at once never share a namespace. */
export function testLabName(tag: string): string {
  return `${tag}${process.pid}`;
}

/**
 * Removes labs named `<tag><pid>` whose process is gone: a test run killed before its `after` hook leaves its
 * namespaces in /run/netns, and no later run has the same pid to clean them up.
 */
export async function removeStaleTestLabs(tag: string): Promise<string[]> {
  let entries: string[] = [];
  try {
    entries = readdirSync('/run/netns');
  } catch {
    return [];
  }
  const pattern = new RegExp(`^hm-(${tag}(\\d+))-`);
  const stale = new Set<string>();
  for (const e of entries) {
    const m = pattern.exec(e);
    if (m && !alive(Number(m[2]))) stale.add(m[1]!);
  }
  const removed: string[] = [];
  for (const name of stale) removed.push(...(await teardownLab(name)));
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
