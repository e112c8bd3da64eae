/**
 * Changes to a running lab, for fault drills and route-change tests: a link down or up, with every node's
 * routes reinstalled as a routing protocol would converge, and a node's ICMP mode.
 */
import { ConfigError } from '../config/load-config.js';
import { ipRoute, type Route } from './compute-routes.js';
import { icmpSysctls, writeSysctls } from './icmp-sysctls.js';
import type { LabLink, LabNode, LabPlan } from './plan-lab.js';
import { forEachLimited, ipBatch, run } from './run-ip.js';
import type { IcmpMode } from './topology.js';

export type LinkState = 'down' | 'up';

/** A change the lab cannot make: an unknown node, a link it does not have, a lab that is not built. Exits 2, like a bad topology. */
export class LabStateError extends ConfigError {
  override name = 'LabStateError';
}

export function findNode(plan: LabPlan, name: string): LabNode {
  const node = plan.nodes.get(name);
  if (!node)
    throw new LabStateError(`unknown node "${name}" in lab ${plan.name} (nodes: ${[...plan.nodes.keys()].join(', ')})`);
  return node;
}

export function findLink(plan: LabPlan, a: string, b: string): LabLink {
  findNode(plan, a);
  findNode(plan, b);
  const link = plan.links.find((l) => (l.a === a && l.b === b) || (l.a === b && l.b === a));
  if (!link) throw new LabStateError(`lab ${plan.name} has no link ${a} - ${b}`);
  return link;
}

/** Sets both veth ends of the link down or up. The kernel drops a down end's connected route and restores it on up. */
export async function setLinkState(plan: LabPlan, link: LabLink, state: LinkState): Promise<void> {
  await Promise.all([
    ipBatch([`link set to-${link.b} ${state}`], findNode(plan, link.a).ns),
    ipBatch([`link set to-${link.a} ${state}`], findNode(plan, link.b).ns),
  ]);
}

/**
 * The `ip` lines that make the node's routes exactly `routes`: a replace for each (atomic, so traffic that keeps
 * its path is never dropped) and a delete for every lab prefix the node does not own and no longer has a route
 * for. The kernel has already removed routes whose only next hop went down, hence the tolerated deletes.
 */
export function routeCommands(plan: LabPlan, node: LabNode, routes: Route[]): string[] {
  const keep = new Set([
    ...routes.map((r) => r.prefix.cidr),
    ...node.interfaces.map((i) => i.subnet.cidr),
    ...node.lo.map((p) => p.cidr),
  ]);
  const prefixes = [...plan.links.map((l) => l.subnet), ...[...plan.nodes.values()].flatMap((n) => n.lo)];
  return [
    ...routes.map((r) => `route replace ${ipRoute(r)}`),
    ...prefixes.filter((p) => !keep.has(p.cidr)).map((p) => `route del ${p.cidr}`),
  ];
}

/** One `ip -force -batch` per namespace, 16 at once. */
export async function installRoutes(plan: LabPlan, routes: Map<string, Route[]>): Promise<void> {
  const gone = (line: string, error: string) => line.startsWith('route del ') && error.includes('No such process');
  await forEachLimited([...plan.nodes.values()], 16, (n) =>
    ipBatch(routeCommands(plan, n, routes.get(n.name) ?? []), n.ns, { ignore: gone }),
  );
}

export async function applyIcmp(node: LabNode, mode: IcmpMode): Promise<void> {
  const res = await run('ip', ['netns', 'exec', node.ns, 'sh', '-ec', writeSysctls(icmpSysctls(mode)).join('; ')]);
  if (res.code !== 0)
    throw new Error(
      `setting icmp ${mode} on ${node.name} (${node.ns}) failed: ${res.stderr.trim() || `exit ${res.code ?? res.signal}`}`,
    );
}
