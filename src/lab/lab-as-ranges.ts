import type { LocalRange } from '../map/enrich/parse-local-ranges.js';
import type { LabPlan } from './plan-lab.js';

/**
 * The lab's AS design as declared ranges: each interface address (a /32, since a link's subnet joins two nodes that
 * may sit in different ASes) and each lo prefix of a node that names its `as`, organisation "lab AS<n>". Lab space is
 * benchmarking space, which the public data never covers.
 */
export function labAsRanges(plan: LabPlan): LocalRange[] {
  const ranges: LocalRange[] = [];
  for (const node of plan.nodes.values()) {
    if (node.as === undefined) continue;
    const declare = (prefix: string) => ranges.push({ prefix, asn: node.as!, org: `lab AS${node.as}`, country: null });
    for (const i of node.interfaces) declare(`${i.address}/${i.subnet.family === 4 ? 32 : 128}`);
    for (const p of node.lo) declare(p.cidr);
  }
  return ranges;
}
