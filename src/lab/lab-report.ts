/**
 * Scores a map the mapper discovered in a lab against what the lab knows to be true: which links a perfect
 * mapper could have found from its vantages, which discovered links are false, precision and recall, and
 * through which networks (ASes) the links run. Pure: the lab need not be built.
 */
import { formatAddress } from '../net/ip-address.js';
import type { LabTruth } from './lab-truth.js';
import type { Lab } from './open-lab.js';

export interface LinkPair {
  near: string;
  far: string;
}

export interface MapScore {
  /** Distinct links discovered. */
  discovered: number;
  /** Discovered links that exist in the lab. */
  trueDiscovered: number;
  falseLinks: LinkPair[];
  /** Reachable links that were not discovered. */
  missed: LinkPair[];
  /** trueDiscovered / discovered (1 when nothing was discovered). */
  precision: number;
  /** Reachable links discovered / reachable links (1 when nothing is reachable). */
  recall: number;
}

export interface AsPairCount {
  /** The AS number of the near end's node, or '-' when it has none (or the address is not the lab's). */
  nearAs: string;
  farAs: string;
  links: number;
}

export const linkKey = (l: LinkPair): string => `${l.near}>${l.far}`;

export function linkPair(key: string): LinkPair {
  const [near = '', far = ''] = key.split('>');
  return { near, far };
}

/**
 * The links a perfect mapper finds from `vantages`, starting with traceroutes to `seeds` and tracing every
 * hop it sees as a new destination, until no new destination turns up. As in src/results/extract-links.ts,
 * a link is two consecutive answering hops; a silent hop (null) links nothing; the destination's own answer
 * is the far end of the last link.
 */
export function reachableTruth(
  lab: Lab,
  vantages: readonly string[],
  seeds: readonly string[],
): { links: Set<string>; destinations: Set<string> } {
  const links = new Set<string>();
  const destinations = new Set(seeds);
  let pending = [...destinations];
  while (pending.length > 0) {
    const found: string[] = [];
    for (const d of pending) {
      for (const v of vantages) {
        for (const path of lab.truth().truePaths(v, d)) {
          addLinks(path, links);
          for (const hop of path) {
            if (hop === null || hop === d || destinations.has(hop)) continue;
            destinations.add(hop);
            found.push(hop);
          }
        }
      }
    }
    pending = found;
  }
  return { links, destinations };
}

/**
 * Every link a traceroute from `vantages` to any address of the lab can show: toward every interface
 * address and every address of every lo prefix. A discovered link outside this set is false. `changed` are
 * the states the lab went through with links down during a run: a link true in any of them was true when seen.
 */
export function allTrueLinks(lab: Lab, vantages: readonly string[], changed: readonly LabTruth[] = []): Set<string> {
  const links = new Set<string>();
  for (const address of labAddresses(lab)) {
    for (const v of vantages) {
      for (const path of lab.truth().truePaths(v, address)) addLinks(path, links);
      for (const state of changed)
        for (const path of state.truePaths(v, address, { unrouted: 'none' })) addLinks(path, links);
    }
  }
  return links;
}

export function scoreMap(
  truth: { links: Set<string> },
  allTrue: Set<string>,
  discovered: readonly LinkPair[],
): MapScore {
  const found = new Set(discovered.map(linkKey));
  const falseKeys = [...found].filter((k) => !allTrue.has(k));
  const missedKeys = [...truth.links].filter((k) => !found.has(k));
  const reachableFound = truth.links.size - missedKeys.length;
  return {
    discovered: found.size,
    trueDiscovered: found.size - falseKeys.length,
    falseLinks: falseKeys.sort().map(linkPair),
    missed: missedKeys.sort().map(linkPair),
    precision: found.size === 0 ? 1 : (found.size - falseKeys.length) / found.size,
    recall: truth.links.size === 0 ? 1 : reachableFound / truth.links.size,
  };
}

/** How many links run from each AS to each AS (by the `as` of the nodes owning the two ends), most first. */
export function linksByAs(lab: Lab, links: Iterable<LinkPair | string>): AsPairCount[] {
  const asOf = (address: string): string => {
    const node = lab.truth().nodeOf(address);
    const as = node === undefined ? undefined : lab.plan.nodes.get(node)?.as;
    return as === undefined ? '-' : String(as);
  };
  const counts = new Map<string, AsPairCount>();
  for (const item of links) {
    const { near, far } = typeof item === 'string' ? linkPair(item) : item;
    const row = { nearAs: asOf(near), farAs: asOf(far), links: 0 };
    const key = `${row.nearAs}>${row.farAs}`;
    (counts.get(key) ?? counts.set(key, row).get(key)!).links += 1;
  }
  return [...counts.values()].sort(
    (a, b) => b.links - a.links || a.nearAs.localeCompare(b.nearAs) || a.farAs.localeCompare(b.farAs),
  );
}

function addLinks(path: ReadonlyArray<string | null>, links: Set<string>): void {
  for (let k = 0; k + 1 < path.length; k++) {
    const near = path[k];
    const far = path[k + 1];
    if (near && far && near !== far) links.add(linkKey({ near, far }));
  }
}

function labAddresses(lab: Lab): string[] {
  const out: string[] = [];
  for (const node of lab.plan.nodes.values()) {
    out.push(...node.interfaces.map((i) => i.address));
    for (const prefix of node.lo) {
      for (let i = 0n; i < prefix.size; i++) out.push(formatAddress({ family: 4, value: prefix.first + i }));
    }
  }
  return out;
}

/** The lab nodes a link joins, where its addresses are theirs: a report then reads as routers, not addresses. */
export function linkNodes(lab: Lab, link: { near: string; far: string }): { nearNode?: string; farNode?: string } {
  const truth = lab.truth();
  const near = truth.nodeOf(link.near);
  const far = truth.nodeOf(link.far);
  return { ...(near === undefined ? {} : { nearNode: near }), ...(far === undefined ? {} : { farNode: far }) };
}

/** The rate-limited routers a link touches: a missed link there is what the worker's ICMP budgets are for. */
export function rateLimitedEnds(lab: Lab, link: { near: string; far: string }): { rateLimited?: string[] } {
  const { nearNode, farNode } = linkNodes(lab, link);
  const routers = [nearNode, farNode].filter(
    (node): node is string => node !== undefined && !!lab.plan.nodes.get(node)?.icmp.startsWith('ratelimited'),
  );
  return routers.length > 0 ? { rateLimited: [...new Set(routers)] } : {};
}
