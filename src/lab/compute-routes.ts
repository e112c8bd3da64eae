/**
 * Static routes for every node of a lab: shortest paths by breadth-first search from each destination, with
 * every equal-cost next hop kept (an ECMP `nexthop via … nexthop via …` group). Only routers carry transit
 * traffic; a host is a source or a destination, never a hop. Links that are down are left out, as a routing
 * protocol would after converging: no path crosses them and their subnets are no destination.
 */
import type { Block } from '../net/ip-address.js';
import { linkKey, type LabInterface, type LabPlan } from './plan-lab.js';

export interface Nexthop {
  via: string;
  dev: string;
  /** The neighbour node `via` belongs to. */
  peer: string;
}

export interface Route {
  prefix: Block;
  /** One for a plain route, several for ECMP; in link order. */
  nexthops: Nexthop[];
}

/** The route as `ip route` arguments: `PREFIX via A dev X`, or `PREFIX nexthop via A dev X nexthop via B dev Y`. */
export function ipRoute(r: Route): string {
  const hops = r.nexthops.map((h) => `via ${h.via} dev ${h.dev}`);
  return hops.length === 1
    ? `${r.prefix.cidr} ${hops[0]}`
    : `${r.prefix.cidr} ${hops.map((h) => `nexthop ${h}`).join(' ')}`;
}

interface Destination {
  prefix: Block;
  /** Nodes that have the prefix attached (no route needed there). */
  owners: string[];
  /** Where the search starts: the owners that deliver the whole prefix. */
  seeds: string[];
}

/** `downLinks` holds `linkKey(a, b)` of each link that is down. */
export function computeRoutes(plan: LabPlan, downLinks: ReadonlySet<string> = new Set()): Map<string, Route[]> {
  const routes = new Map<string, Route[]>([...plan.nodes.keys()].map((n) => [n, []]));
  const up = (node: string) => (i: LabInterface) => !downLinks.has(linkKey(node, i.peer));
  for (const dest of destinations(plan, downLinks)) {
    const dist = distancesFrom(plan, dest.seeds, up);
    for (const node of plan.nodes.values()) {
      const d = dist.get(node.name);
      if (dest.owners.includes(node.name) || d === undefined) continue;
      const nexthops = node.interfaces
        .filter(up(node.name))
        .filter((i) => dist.get(i.peer) === d - 1 && relays(plan, i.peer, dest.seeds))
        .map((i) => ({ via: i.peerAddress, dev: i.ifname, peer: i.peer }));
      routes.get(node.name)!.push({ prefix: dest.prefix, nexthops });
    }
  }
  return routes;
}

function destinations(plan: LabPlan, downLinks: ReadonlySet<string>): Destination[] {
  const out: Destination[] = plan.links
    .filter((l) => !downLinks.has(linkKey(l.a, l.b)))
    .map((link) => {
      const ends = [link.a, link.b];
      // A packet for the host's side of a host-router link still reaches it through the router; a host never
      // forwards, so only the router side may be the way in. A link between two hosts is entered from either.
      const routers = ends.filter((n) => plan.nodes.get(n)!.kind === 'router');
      return { prefix: link.subnet, owners: ends, seeds: routers.length > 0 ? routers : ends };
    });
  for (const node of plan.nodes.values()) {
    for (const prefix of node.lo) out.push({ prefix, owners: [node.name], seeds: [node.name] });
  }
  return out;
}

/** Hop counts to the nearest seed, searching outward only through nodes that forward (routers and the seeds). */
function distancesFrom(
  plan: LabPlan,
  seeds: string[],
  up: (node: string) => (i: LabInterface) => boolean,
): Map<string, number> {
  const dist = new Map(seeds.map((s) => [s, 0]));
  let frontier = seeds;
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const name of frontier) {
      if (!relays(plan, name, seeds)) continue;
      for (const i of plan.nodes.get(name)!.interfaces.filter(up(name))) {
        if (dist.has(i.peer)) continue;
        dist.set(i.peer, dist.get(name)! + 1);
        next.push(i.peer);
      }
    }
    frontier = next;
  }
  return dist;
}

const relays = (plan: LabPlan, name: string, seeds: string[]) =>
  seeds.includes(name) || plan.nodes.get(name)!.kind === 'router';
