import type { Pool } from '../../db/create-pool.js';
import { linkFilterSql, type GraphFilter } from './graph-filter.js';

export interface LinkView {
  near: string;
  far: string;
  first_seen_at: Date;
  last_seen_at: Date;
  count: number;
  delta_min_us: number;
  delta_max_us: number;
  delta_mean_us: number;
}

export interface InterfaceNodeView {
  address: string;
  first_seen_at: Date;
  last_seen_at: Date;
  /** Observations of the node's links on this page (in and out). */
  count: number;
  degree: number;
}

/** Where a page ends: the (near, far) of its last link. */
export interface LinkCursor {
  near: string;
  far: string;
}

/**
 * One page of interface links in (near, far) order after `after`. A keyset page walks `links_near_far_idx`
 * from the cursor, so page 100 costs what page 1 costs and links upserted meanwhile neither shift nor repeat
 * rows (OFFSET would do both). With 1,000,000 links a page of 10,000 is a 10 ms index scan, the same from the
 * first row or the middle (docs/map-api.md).
 */
export async function interfaceLinksPage(
  pool: Pool,
  f: GraphFilter,
  limit: number,
  after?: LinkCursor,
): Promise<LinkView[]> {
  const params: unknown[] = [];
  const where = linkFilterSql(f, params);
  if (after) where.push(`(l.near, l.far) > ($${params.push(after.near)}::inet, $${params.push(after.far)}::inet)`);
  const { rows } = await pool.query<LinkView>(
    `select host(l.near) as near, host(l.far) as far, l.first_seen_at, l.last_seen_at, l.count::float8 as count,
            l.delta_min_us, l.delta_max_us, l.delta_sum_us / l.count as delta_mean_us
       from links l
      ${where.length ? `where ${where.join(' and ')}` : ''}
      order by l.near, l.far
      limit $${params.push(limit)}`,
    params,
  );
  return rows;
}

/** The ends of `links` as nodes, with first/last seen and counts over those links. */
export function nodesOfLinks(links: LinkView[]): InterfaceNodeView[] {
  const nodes = new Map<string, InterfaceNodeView>();
  for (const l of links) {
    for (const address of [l.near, l.far]) {
      const n = nodes.get(address);
      if (!n) {
        nodes.set(address, {
          address,
          first_seen_at: l.first_seen_at,
          last_seen_at: l.last_seen_at,
          count: l.count,
          degree: 1,
        });
        continue;
      }
      if (l.first_seen_at < n.first_seen_at) n.first_seen_at = l.first_seen_at;
      if (l.last_seen_at > n.last_seen_at) n.last_seen_at = l.last_seen_at;
      n.count += l.count;
      n.degree += 1;
    }
  }
  return [...nodes.values()];
}
