import { readdirSync } from 'node:fs';
import { ipBatch } from './run-ip.js';
import { namespacePrefix } from './plan-lab.js';
import { assertLabName } from './topology.js';

const NETNS_DIR = '/run/netns';

/** The namespaces of lab `name` that exist now, including those of nodes no longer in its topology. */
export function labNamespaces(name: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(NETNS_DIR);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries.filter((e) => e.startsWith(namespacePrefix(assertLabName(name)))).sort();
}

/**
 * Deletes every namespace of lab `name`; their veths, addresses and routes go with them. Idempotent: returns
 * the namespaces it deleted, none the second time.
 */
export async function teardownLab(name: string): Promise<string[]> {
  const namespaces = labNamespaces(name);
  await ipBatch(namespaces.map((ns) => `netns del ${ns}`));
  return namespaces;
}
