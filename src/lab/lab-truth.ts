/**
 * What a perfect mapper would find in a lab, derived from the plan and the routes the lab installs: the
 * hop sequences a traceroute can see (one per ECMP branch) and the router-level links. Probe tests compare
 * their traceroutes against this.
 */
import { addressInBlock, formatAddress, parseAddress } from '../net/ip-address.js';
import type { Route } from './compute-routes.js';
import { linkKey, type LabInterface, type LabPlan } from './plan-lab.js';

/** One hop sequence: per TTL from 1, the address that answers, or null where a silent router answers nothing. */
export type HopSequence = Array<string | null>;

export interface TrueLink {
  a: string;
  b: string;
  aAddress: string;
  bAddress: string;
  subnet: string;
  /** Present while the link is down (`lab.setLink`): no route crosses it. */
  down?: true;
}

export interface LabTruth {
  /**
   * Every hop sequence a traceroute from node `from` to `toAddress` can see, one per ECMP branch (deduplicated),
   * sorted. A router answers from the interface the probe came in on (icmp_errors_use_inbound_ifaddr=1); the
   * last hop is `toAddress` itself, which answers echo requests even when its node is silent.
   */
  truePaths(from: string, toAddress: string, opts?: { unrouted?: 'throw' | 'none' }): HopSequence[];
  /** Every link as a node pair with both ends' addresses, in topology order, down ones included. */
  trueLinks(): TrueLink[];
  /** The node that owns an address (an interface address or inside a lo prefix), if any. */
  nodeOf(address: string): string | undefined;
}

/** `downLinks` holds `linkKey(a, b)` of the links that are down; `routes` must be computed without them. */
export function labTruth(
  plan: LabPlan,
  routes: Map<string, Route[]>,
  downLinks: ReadonlySet<string> = new Set(),
): LabTruth {
  const nodeOf = (address: string): string | undefined => {
    const a = parseAddress(address);
    if (!a) return undefined;
    for (const node of plan.nodes.values()) {
      if (node.interfaces.some((i) => i.address === formatAddress(a)) || node.lo.some((p) => addressInBlock(a, p)))
        return node.name;
    }
    return undefined;
  };

  /** The interfaces (on the current node) a packet for `to` leaves by: the connected one, else the route's next hops. */
  const egress = (node: string, to: string): LabInterface[] => {
    const a = parseAddress(to)!;
    const own = plan.nodes.get(node)!.interfaces;
    const connected = own.find((i) => addressInBlock(a, i.subnet));
    // A down interface loses its connected route, and no node has a route to a down link's subnet.
    if (connected)
      return connected.peerAddress === to && !downLinks.has(linkKey(node, connected.peer)) ? [connected] : [];
    const route = routes.get(node)!.find((r) => addressInBlock(a, r.prefix));
    return route ? route.nexthops.map((h) => own.find((i) => i.ifname === h.dev)!) : [];
  };

  // An address no route leads to is an error in a whole lab, and expected of one with links down: `unrouted: 'none'`.
  const truePaths = (from: string, toAddress: string, opts: { unrouted?: 'throw' | 'none' } = {}): HopSequence[] => {
    if (!plan.nodes.has(from)) throw new Error(`unknown node "${from}" in lab ${plan.name}`);
    const target = nodeOf(toAddress);
    if (!target) throw new Error(`${toAddress} is no address of lab ${plan.name}`);
    const to = formatAddress(parseAddress(toAddress)!);
    if (target === from) return [[]];
    const out = new Map<string, HopSequence>();
    const walk = (node: string, hops: HopSequence) => {
      if (hops.length > plan.nodes.size)
        throw new Error(`routing loop toward ${to} in lab ${plan.name}: ${JSON.stringify(hops)}`);
      const ways = egress(node, to);
      if (ways.length === 0) {
        if (opts.unrouted === 'none') return;
        throw new Error(`${node} has no route to ${to} in lab ${plan.name}`);
      }
      for (const way of ways) {
        const next = plan.nodes.get(way.peer)!;
        if (next.name === target) {
          const seq = [...hops, to];
          out.set(JSON.stringify(seq), seq);
        } else {
          walk(next.name, [...hops, next.icmp === 'silent' ? null : way.peerAddress]);
        }
      }
    };
    walk(from, []);
    return [...out.keys()].sort().map((k) => out.get(k)!);
  };

  const trueLinks = (): TrueLink[] =>
    plan.links.map((l) => ({
      a: l.a,
      b: l.b,
      aAddress: l.aAddress,
      bAddress: l.bAddress,
      subnet: l.subnet.cidr,
      ...(downLinks.has(linkKey(l.a, l.b)) && { down: true as const }),
    }));

  return { truePaths, trueLinks, nodeOf };
}
