/**
 * Turns a topology into concrete names and addresses: namespaces, interface names and link subnets. Pure and
 * deterministic, so `hopmap lab truth` can describe a lab without building it and tests can predict it.
 */
import { blocksOverlap, formatAddress, makeBlock, parseTarget, type Block } from '../net/ip-address.js';
import { assertLabName, type IcmpMode, type RunSpec, type NodeKind, type Topology } from './topology.js';

export interface LabInterface {
  ifname: string;
  address: string;
  /** The node at the other end, its address and interface. */
  peer: string;
  peerAddress: string;
  peerIfname: string;
  subnet: Block;
}

export interface LabNode {
  name: string;
  kind: NodeKind;
  icmp: IcmpMode;
  /** The AS the node belongs to, for reports. */
  as?: number;
  ns: string;
  /** In link order. */
  interfaces: LabInterface[];
  /** Prefixes made local on `lo`: every address in them answers. */
  lo: Block[];
}

export interface LabLink {
  a: string;
  b: string;
  subnet: Block;
  aAddress: string;
  bAddress: string;
}

export interface LabPlan {
  name: string;
  ecmpHash: Topology['ecmp_hash'];
  nodes: Map<string, LabNode>;
  links: LabLink[];
  /** How `hopmap lab run` runs the mapper on the lab, when the topology says. */
  run?: RunSpec;
}

// Automatic link subnets are /30s taken in order from 198.18.0.0/16 (16,384 links); 198.19.0.0/16 is left
// for lo prefixes by convention.
const AUTO_POOL = makeBlock(4, 0xc6120000n, 16);
const AUTO_PREFIX = 30;

export const namespacePrefix = (lab: string): string => `hm-${lab}-`;

/** Names a link by its two nodes in either order: a topology has at most one link per pair. */
export const linkKey = (a: string, b: string): string => (a < b ? `${a} ${b}` : `${b} ${a}`);

export function planLab(topology: Topology, name = topology.name): LabPlan {
  assertLabName(name);
  const nodes = new Map<string, LabNode>();
  for (const [node, spec] of Object.entries(topology.nodes)) {
    nodes.set(node, {
      name: node,
      kind: spec.kind,
      icmp: spec.icmp,
      ...(spec.as !== undefined && { as: spec.as }),
      ns: `${namespacePrefix(name)}${node}`,
      interfaces: [],
      lo: spec.lo.map(block),
    });
  }
  const taken: Block[] = [
    ...[...nodes.values()].flatMap((n) => n.lo),
    ...topology.links.flatMap(([, , s]) => (s ? [block(s)] : [])),
  ];
  let next = AUTO_POOL.first;
  const allocate = (): Block => {
    for (;;) {
      const candidate = makeBlock(4, next, AUTO_PREFIX);
      next += candidate.size;
      if (next > AUTO_POOL.first + AUTO_POOL.size)
        throw new Error(`${AUTO_POOL.cidr} has no free /${AUTO_PREFIX} left for link subnets`);
      if (!taken.some((t) => blocksOverlap(t, candidate))) return candidate;
    }
  };

  const links = topology.links.map(([a, b, explicit]): LabLink => {
    const subnet = explicit ? block(explicit) : allocate();
    // A /31 uses both addresses (RFC 3021); anything wider skips the network address.
    const first = subnet.prefixLength === 31 ? subnet.first : subnet.first + 1n;
    const aAddress = formatAddress({ family: 4, value: first });
    const bAddress = formatAddress({ family: 4, value: first + 1n });
    nodes.get(a)!.interfaces.push({
      ifname: `to-${b}`,
      address: aAddress,
      peer: b,
      peerAddress: bAddress,
      peerIfname: `to-${a}`,
      subnet,
    });
    nodes.get(b)!.interfaces.push({
      ifname: `to-${a}`,
      address: bAddress,
      peer: a,
      peerAddress: aAddress,
      peerIfname: `to-${b}`,
      subnet,
    });
    return { a, b, subnet, aAddress, bAddress };
  });
  return { name, ecmpHash: topology.ecmp_hash, nodes, links, ...(topology.run && { run: topology.run }) };
}

/** The address a lo prefix is known by: the prefix itself for a /32 or /31, else its first host address. */
export function loAddress(prefix: Block): string {
  return formatAddress({ family: 4, value: prefix.prefixLength >= 31 ? prefix.first : prefix.first + 1n });
}

function block(text: string): Block {
  const parsed = parseTarget(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.block;
}
