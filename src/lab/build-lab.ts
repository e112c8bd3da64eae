/**
 * Builds a lab from its plan with a handful of `ip -batch` runs: namespaces, sysctls, veth pairs, then one
 * batch per namespace for addresses and routes. Nothing is created in the host's own namespace: each veth
 * end is created directly inside its node's namespace.
 */
import { icmpSysctls, writeSysctls } from './icmp-sysctls.js';
import { openLab, type Lab, type LabOptions } from './open-lab.js';
import { ipRoute, type Route } from './compute-routes.js';
import { loAddress, type LabNode, type LabPlan } from './plan-lab.js';
import { forEachLimited, ipBatch } from './run-ip.js';
import { teardownLab } from './teardown-lab.js';
import type { Topology } from './topology.js';

/** Removes leftovers of a lab of the same name (/run/netns outlives processes), then builds it. */
export async function buildLab(topology: Topology, opts: LabOptions = {}): Promise<Lab> {
  const lab = openLab(topology, opts);
  const nodes = [...lab.plan.nodes.values()];
  await teardownLab(lab.name);
  try {
    await ipBatch(nodes.map((n) => `netns add ${n.ns}`));
    // Before the links exist, so that the interfaces inherit conf.default (rp_filter off, no IPv6).
    await ipBatch(
      nodes.map(
        (n) => `netns exec ${n.ns} sh -ec "${[...writeSysctls(sysctls(n, lab.plan)), hashSeed(n)].join('; ')}"`,
      ),
    );
    await ipBatch(
      lab.plan.links.map(
        (l) =>
          `link add name to-${l.b} netns ${lab.nsName(l.a)} type veth peer name to-${l.a} netns ${lab.nsName(l.b)}`,
      ),
    );
    await forEachLimited(nodes, 8, (n) => ipBatch(nodeCommands(n, lab.routes.get(n.name)!), n.ns));
  } catch (err) {
    await teardownLab(lab.name).catch(() => {});
    throw err;
  }
  return lab;
}

export function sysctls(node: LabNode, plan: LabPlan): Array<[string, number]> {
  const router = node.kind === 'router';
  return [
    ['net.ipv6.conf.all.disable_ipv6', 1],
    ['net.ipv6.conf.default.disable_ipv6', 1],
    ['net.ipv4.conf.all.rp_filter', 0],
    ['net.ipv4.conf.default.rp_filter', 0],
    ['net.ipv4.ip_forward', router ? 1 : 0],
    ['net.ipv4.fib_multipath_hash_policy', plan.ecmpHash === 'l4' ? 1 : 0],
    // Answer from the interface the probe came in on, as most real routers do.
    ['net.ipv4.icmp_errors_use_inbound_ifaddr', 1],
    ...icmpSysctls(node.icmp),
  ];
}

/**
 * Every namespace otherwise hashes flows with the same (boot-wide) seed, so a flow that takes the first
 * branch at one router takes the first branch at the next one too, and some paths never occur. A seed per
 * node, where the kernel has the setting (6.11+), makes the routers split flows independently, as real
 * ones do. Derived from the node's name, so a topology behaves the same under any lab name.
 */
export function hashSeed(node: LabNode): string {
  let h = 0x811c9dc5;
  for (const c of node.name) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  const file = '/proc/sys/net/ipv4/fib_multipath_hash_seed';
  return `[ ! -e ${file} ] || echo ${h || 1} > ${file}`;
}

export function nodeCommands(node: LabNode, routes: Route[]): string[] {
  const out = ['link set lo up'];
  for (const i of node.interfaces)
    out.push(`addr add ${i.address}/${i.subnet.prefixLength} dev ${i.ifname}`, `link set ${i.ifname} up`);
  for (const prefix of node.lo) {
    // A local route makes every address of the prefix answer; the address names the node in `ip addr`.
    out.push(`addr add ${loAddress(prefix)}/32 dev lo`);
    if (prefix.prefixLength < 32) out.push(`route add local ${prefix.cidr} dev lo table local`);
  }
  for (const r of routes) out.push(`route add ${ipRoute(r)}`);
  return out;
}
