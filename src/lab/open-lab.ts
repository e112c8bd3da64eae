import { applyIcmp, findLink, findNode, installRoutes, setLinkState, type LinkState } from './change-lab.js';
import { computeRoutes, type Route } from './compute-routes.js';
import { labTruth, type LabTruth } from './lab-truth.js';
import { linkKey, loAddress, planLab, type LabLink, type LabNode, type LabPlan } from './plan-lab.js';
import { readLabState } from './read-lab-state.js';
import { run, type ExecResult } from './run-ip.js';
import { teardownLab } from './teardown-lab.js';
import type { IcmpMode, Topology } from './topology.js';

export interface LabOptions {
  /** Overrides the topology's name, e.g. to run the same topology once per test file. */
  name?: string;
}

export interface Lab {
  name: string;
  plan: LabPlan;
  /** The routes installed now: updated in place when a link goes down or up. */
  routes: Map<string, Route[]>;
  nsName(node: string): string;
  /** The node's first interface address, or its first lo address when it has no link. */
  addressOf(node: string): string;
  /** Runs `cmd args` inside the node's namespace (`ip netns exec`); resolves with its exit status and output. */
  exec(node: string, cmd: string, args: readonly string[], opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** What a perfect mapper would find in the lab as it is now (down links, ICMP modes). */
  truth(): LabTruth;
  /** Deletes the lab's namespaces; idempotent. */
  teardown(): Promise<string[]>;
  /** The links that are down, in topology order. */
  downLinks(): LabLink[];
  /**
   * Sets both ends of link a - b down or up, then installs in every node the routes the lab has without its
   * down links, as a routing protocol would after converging. Throws LabStateError for a link the lab lacks.
   */
  setLink(a: string, b: string, state: LinkState): Promise<void>;
  /** Applies the sysctls of an `icmp:` mode to the node, as if the topology said so. */
  setIcmp(node: string, mode: IcmpMode): Promise<void>;
  /** Takes the down links and ICMP modes from the kernel, for a process that did not make the changes (the CLI). */
  readState(): Promise<void>;
}

/** The handle of a lab, built or not: names, addresses, routes and truth need no namespaces. */
export function openLab(topology: Topology, opts: LabOptions = {}): Lab {
  const plan = planLab(topology, opts.name);
  const down = new Set<string>();
  const routes = computeRoutes(plan);
  const node = (name: string): LabNode => findNode(plan, name);
  let truth: LabTruth | undefined;
  const rerouted = () => {
    const next = computeRoutes(plan, down);
    routes.clear();
    for (const [name, r] of next) routes.set(name, r);
    truth = undefined;
  };
  // One change at a time: each recomputes from the state the previous one left.
  let changing: Promise<unknown> = Promise.resolve();
  const serially = <T>(change: () => Promise<T>): Promise<T> => {
    const done = changing.then(change);
    changing = done.catch(() => {});
    return done;
  };
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
    truth: () => (truth ??= labTruth(plan, new Map(routes), new Set(down))),
    teardown: () => teardownLab(plan.name),
    downLinks: () => plan.links.filter((l) => down.has(linkKey(l.a, l.b))),
    setLink: (a, b, state) =>
      serially(async () => {
        const link = findLink(plan, a, b);
        await setLinkState(plan, link, state);
        if (state === 'down') down.add(linkKey(a, b));
        else down.delete(linkKey(a, b));
        rerouted();
        await installRoutes(plan, routes);
      }),
    setIcmp: (name, mode) =>
      serially(async () => {
        const n = node(name);
        await applyIcmp(n, mode);
        n.icmp = mode;
        truth = undefined;
      }),
    readState: () =>
      serially(async () => {
        const state = await readLabState(plan);
        down.clear();
        for (const key of state.downLinks) down.add(key);
        for (const [name, mode] of state.icmp) node(name).icmp = mode;
        rerouted();
      }),
  };
}
