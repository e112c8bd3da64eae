/**
 * Scores router resolution against the lab: are the address pairs put in one router really on one node
 * (precision), and how many pairs of one node's known addresses were found (recall); and the router-level
 * links, as node adjacencies, against the lab's true links.
 */
import type { Pool } from '../db/create-pool.js';
import type { Lab } from './open-lab.js';

export interface PrecisionRecall {
  /** Found, true among them, true in all (the recall's denominator). */
  inferred: number;
  correct: number;
  truth: number;
  precision: number;
  recall: number;
}

export interface AliasScore {
  /** Routers of more than one interface, and the interfaces they hold. */
  routers: number;
  interfaces: number;
  /** Pairs of addresses in one inferred router vs pairs of addresses of one lab router known to the map (link ends and resolved interfaces). */
  pairs: PrecisionRecall;
  /**
   * Router links (directed, a node pair each) vs the lab's links between nodes with an address among the link
   * ends: a silent router's addresses may be known from record route, but no link can lead into it.
   */
  routerLinks: PrecisionRecall;
  /** Inferred alias pairs on two lab nodes, and the node adjacencies no router link shows: what to look at. */
  falsePairs: Array<[string, string]>;
  missedAdjacencies: Array<[string, string]>;
}

export interface ResolvedMap {
  /** The addresses at the ends of interface links. */
  linkEnds: string[];
  /** router id → its interfaces, for routers of more than one interface. */
  routers: Map<string, string[]>;
  /** Distinct router links (near, far router ids), links inside one router left out. */
  routerLinks: Array<{ near: string; far: string }>;
}

const ratio = (n: number, d: number) => (d === 0 ? 1 : n / d);
const pairKey = (x: string, y: string) => (x < y ? `${x} ${y}` : `${y} ${x}`);

export function scoreAliases(lab: Lab, map: ResolvedMap): AliasScore {
  const truth = lab.truth();
  const isRouter = (node: string | undefined) => node !== undefined && lab.plan.nodes.get(node)?.kind === 'router';

  // Truth: pairs of known addresses of one lab router (hosts' many lo addresses are no aliases to resolve).
  const byNode = new Map<string, string[]>();
  for (const a of new Set([...map.linkEnds, ...[...map.routers.values()].flat()])) {
    const node = truth.nodeOf(a);
    if (isRouter(node)) (byNode.get(node!) ?? byNode.set(node!, []).get(node!)!).push(a);
  }
  let truePairs = 0;
  for (const addresses of byNode.values()) truePairs += (addresses.length * (addresses.length - 1)) / 2;
  let inferred = 0;
  let correct = 0;
  let correctOnRouters = 0;
  const falsePairs: Array<[string, string]> = [];
  for (const interfaces of map.routers.values()) {
    for (let i = 0; i < interfaces.length; i++) {
      for (let j = i + 1; j < interfaces.length; j++) {
        inferred++;
        const n = truth.nodeOf(interfaces[i]!);
        if (n === undefined || n !== truth.nodeOf(interfaces[j]!)) {
          falsePairs.push([interfaces[i]!, interfaces[j]!]);
          continue;
        }
        correct++;
        if (isRouter(n)) correctOnRouters++;
      }
    }
  }

  // A router stands for the node most of its interfaces are on.
  const nodeOfRouter = (id: string): string | undefined => {
    const votes = new Map<string, number>();
    for (const a of map.routers.get(id) ?? [id]) {
      const n = truth.nodeOf(a);
      if (n !== undefined) votes.set(n, (votes.get(n) ?? 0) + 1);
    }
    return [...votes.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))[0]?.[0];
  };
  const knownNodes = new Set(map.linkEnds.map((a) => truth.nodeOf(a)).filter((n) => n !== undefined));
  const adjacent = new Set(
    truth
      .trueLinks()
      .filter((l) => !l.down && knownNodes.has(l.a) && knownNodes.has(l.b))
      .map((l) => pairKey(l.a, l.b)),
  );
  const found = new Set<string>();
  let linksCorrect = 0;
  for (const l of map.routerLinks) {
    const a = nodeOfRouter(l.near);
    const b = nodeOfRouter(l.far);
    if (a === undefined || b === undefined || a === b || !adjacent.has(pairKey(a, b))) continue;
    linksCorrect++;
    found.add(pairKey(a, b));
  }

  return {
    routers: map.routers.size,
    interfaces: [...map.routers.values()].reduce((n, r) => n + r.length, 0),
    pairs: {
      inferred,
      correct,
      truth: truePairs,
      precision: ratio(correct, inferred),
      recall: ratio(correctOnRouters, truePairs),
    },
    routerLinks: {
      inferred: map.routerLinks.length,
      correct: linksCorrect,
      truth: adjacent.size,
      precision: ratio(linksCorrect, map.routerLinks.length),
      recall: ratio(found.size, adjacent.size),
    },
    falsePairs,
    missedAdjacencies: [...adjacent]
      .filter((k) => !found.has(k))
      .sort()
      .map((k) => k.split(' ') as [string, string]),
  };
}

/** What the run's database holds: its link ends, the resolved routers, and the router-level links. */
export async function resolvedMap(pool: Pool): Promise<ResolvedMap> {
  const [ends, routers, links] = await Promise.all([
    pool.query<{ a: string }>('select host(near) as a from links union select host(far) from links'),
    pool.query<{ id: string; interfaces: string[] }>(
      'select host(router_id) as id, array_agg(host(address) order by address) as interfaces from router_interfaces group by router_id order by router_id',
    ),
    pool.query<{ near: string; far: string }>(
      `select distinct host(coalesce(nr.router_id, l.near)) as near, host(coalesce(fr.router_id, l.far)) as far
         from links l
         left join router_interfaces nr on nr.address = l.near
         left join router_interfaces fr on fr.address = l.far
        where coalesce(nr.router_id, l.near) <> coalesce(fr.router_id, l.far)
        order by 1, 2`,
    ),
  ]);
  return {
    linkEnds: ends.rows.map((r) => r.a),
    routers: new Map(routers.rows.map((r) => [r.id, r.interfaces])),
    routerLinks: links.rows,
  };
}
