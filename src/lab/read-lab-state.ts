/**
 * What a built lab looks like now, read from the kernel: which links are down and how each node sends ICMP
 * errors. A process that did not make the changes (each `hopmap lab link` is a new one) starts from this.
 */
import { LabStateError } from './change-lab.js';
import { linkKey, type LabPlan } from './plan-lab.js';
import { forEachLimited, run } from './run-ip.js';
import { labNamespaces } from './teardown-lab.js';
import type { IcmpMode } from './topology.js';

export interface LabState {
  /** `linkKey(a, b)` of each link with an end that is down or has no carrier. */
  downLinks: Set<string>;
  icmp: Map<string, IcmpMode>;
}

interface IpLink {
  ifname: string;
  flags: string[];
}

export async function readLabState(plan: LabPlan): Promise<LabState> {
  const present = new Set(labNamespaces(plan.name));
  const missing = [...plan.nodes.values()].filter((n) => !present.has(n.ns)).map((n) => n.ns);
  if (missing.length > 0)
    throw new LabStateError(
      `lab ${plan.name} is not built (no namespace ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}); build it with hopmap lab up`,
    );
  const state: LabState = { downLinks: new Set(), icmp: new Map() };
  await forEachLimited([...plan.nodes.values()], 16, async (node) => {
    const res = await run('ip', [
      'netns',
      'exec',
      node.ns,
      'sh',
      '-ec',
      'cat /proc/sys/net/ipv4/icmp_msgs_per_sec /proc/sys/net/ipv4/icmp_ratelimit; ip -j link show',
    ]);
    if (res.code !== 0)
      throw new Error(
        `reading the state of ${node.name} (${node.ns}) failed: ${res.stderr.trim() || `exit ${res.code ?? res.signal}`}`,
      );
    const [perSec, ratelimit, ...json] = res.stdout.split('\n');
    state.icmp.set(node.name, icmpMode(Number(perSec), Number(ratelimit)));
    for (const link of JSON.parse(json.join('\n')) as IpLink[]) {
      const peer = node.interfaces.find((i) => i.ifname === link.ifname)?.peer;
      // One end set down leaves the other without carrier, so either end tells.
      if (peer && (!link.flags.includes('UP') || link.flags.includes('NO-CARRIER')))
        state.downLinks.add(linkKey(node.name, peer));
    }
  });
  return state;
}

/** Inverts icmpSysctls: silent has no credit at all, normal no per-destination limit, cisco a global one. */
function icmpMode(msgsPerSec: number, ratelimitMs: number): IcmpMode {
  if (msgsPerSec === 0) return 'silent';
  if (ratelimitMs !== 0) return 'ratelimited';
  return msgsPerSec <= 2 ? 'ratelimited-cisco' : 'normal';
}
