/** A cluster of the layout: the nodes of one AS (or of none) on a disc. */
export interface AsCluster {
  /** Index into the graph's `ases`, -1 for nodes in no AS. */
  as: number;
  count: number;
  x: number;
  y: number;
  radius: number;
}

export interface AsLayout {
  x: Float32Array;
  y: Float32Array;
  /** Largest first. */
  clusters: AsCluster[];
}

const GOLDEN_ANGLE = Math.PI * (3 - Math.sqrt(5));
const GAP = 2;

/**
 * Positions for every node at once, O(n): the nodes of each AS fill a disc as a sunflower spiral (in the order
 * given, so addresses that sort together sit together), the largest AS's disc in the middle and the others on
 * rings around it, largest first. Deterministic, no simulation: at 100,000 nodes it takes tens of
 * milliseconds where a force layout takes minutes in a page (docs/map-views.md).
 */
export function layoutByAs(nodeAs: ArrayLike<number>): AsLayout {
  const members = new Map<number, number[]>();
  for (let i = 0; i < nodeAs.length; i++) {
    const as = nodeAs[i]!;
    let m = members.get(as);
    if (!m) members.set(as, (m = []));
    m.push(i);
  }
  const clusters: AsCluster[] = [...members.entries()]
    .map(([as, m]) => ({ as, count: m.length, x: 0, y: 0, radius: Math.sqrt(m.length) + 0.5 }))
    .sort((a, b) => b.count - a.count || a.as - b.as);
  placeOnRings(clusters);

  const x = new Float32Array(nodeAs.length);
  const y = new Float32Array(nodeAs.length);
  for (const c of clusters) {
    const m = members.get(c.as)!;
    for (let j = 0; j < m.length; j++) {
      const r = Math.sqrt(j + 0.5);
      const a = j * GOLDEN_ANGLE;
      x[m[j]!] = c.x + r * Math.cos(a);
      y[m[j]!] = c.y + r * Math.sin(a);
    }
  }
  return { x, y, clusters };
}

/**
 * The first cluster at the centre; each ring is as far out as the previous one's edge plus the largest radius on
 * it, and neighbours on a ring are an angle apart whose chord is at least the sum of their radii plus a gap.
 */
function placeOnRings(clusters: AsCluster[]): void {
  if (clusters.length === 0) return;
  let outer = clusters[0]!.radius;
  let i = 1;
  while (i < clusters.length) {
    const ringR = outer + GAP + clusters[i]!.radius;
    const half = (c: AsCluster) => Math.asin(Math.min(1, (c.radius + GAP / 2) / ringR));
    const ring: AsCluster[] = [];
    // Centre angles: the first at its half-width, each next one its neighbour's half-width plus its own on;
    // the ring is full when the next would reach past the first one's far side (2π).
    let angle = 0;
    while (i < clusters.length) {
      const c = clusters[i]!;
      const next = ring.length === 0 ? half(c) : angle + half(ring.at(-1)!) + half(c);
      if (ring.length > 0 && next + half(c) > 2 * Math.PI) break;
      angle = next;
      c.x = ringR * Math.cos(angle);
      c.y = ringR * Math.sin(angle);
      ring.push(c);
      i++;
    }
    outer = ringR + ring[0]!.radius;
  }
}
