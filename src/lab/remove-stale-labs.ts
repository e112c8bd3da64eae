import { readdirSync } from 'node:fs';
import { teardownLab } from './teardown-lab.js';

/**
 * Removes labs named `<tag><pid>` whose process is gone: a run killed before it could tear its lab down
 * leaves the namespaces in /run/netns, and no later run has the same pid to clean them up.
 */
export async function removeStaleLabs(tag: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = readdirSync('/run/netns');
  } catch {
    return [];
  }
  const pattern = new RegExp(`^hm-(${tag}(\\d+))-`);
  const stale = new Set<string>();
  for (const e of entries) {
    const m = pattern.exec(e);
    if (m && Number(m[2]) !== process.pid && !alive(Number(m[2]))) stale.add(m[1]!);
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
