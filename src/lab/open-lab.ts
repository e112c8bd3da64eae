import { computeRoutes, type Route } from './compute-routes.js';
import { labTruth, type LabTruth } from './lab-truth.js';
import { loAddress, planLab, type LabNode, type LabPlan } from './plan-lab.js';
import { run, type ExecResult } from './run-ip.js';
import { teardownLab } from './teardown-lab.js';
import type { Topology } from './topology.js';

export interface LabOptions {
  /** Overrides the topology's name, e.g. to run the same topology once per test file. */
  name?: string;
}

export interface Lab {
  name: string;
  plan: LabPlan;
  routes: Map<string, Route[]>;
  nsName(node: string): string;
  /** The node's first interface address, or its first lo address when it has no link. */
  addressOf(node: string): string;
  /** Runs `cmd args` inside the node's namespace (`ip netns exec`); resolves with its exit status and output. */
  exec(node: string, cmd: string, args: readonly string[], opts?: { timeoutMs?: number }): Promise<ExecResult>;
  truth(): LabTruth;
  /** Deletes the lab's namespaces; idempotent. */
  teardown(): Promise<string[]>;
}

/** The handle of a lab, built or not: names, addresses, routes and truth need no namespaces. */
export function openLab(topology: Topology, opts: LabOptions = {}): Lab {
  const plan = planLab(topology, opts.name);
  const routes = computeRoutes(plan);
  const node = (name: string): LabNode => {
    const n = plan.nodes.get(name);
    if (!n) throw new Error(`unknown node "${name}" in lab ${plan.name} (nodes: ${[...plan.nodes.keys()].join(', ')})`);
    return n;
  };
  let truth: LabTruth | undefined;
  return {
    name: plan.name,
    plan,
    routes,
    nsName: (name) => node(name).ns,
    addressOf(name) {
      const n = node(name);
      const address = n.interfaces[0]?.address ?? (n.lo[0] && loAddress(n.lo[0]));
      if (!address) throw new Error(`node "${name}" of lab ${plan.name} has no address`);
      return address;
    },
    exec: (name, cmd, args, execOpts) => run('ip', ['netns', 'exec', node(name).ns, cmd, ...args], execOpts),
    truth: () => (truth ??= labTruth(plan, routes)),
    teardown: () => teardownLab(plan.name),
  };
}
