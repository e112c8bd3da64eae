import { resolveRouters, type Resolution } from '../aliases/resolve-routers.js';
import type { Pool } from '../db/create-pool.js';
import { enrichAddresses } from '../map/enrich/enrich-addresses.js';
import { enrichPendingHops } from '../map/enrich/enrich-hops-task.js';
import { rebuildAsLinksIfStale } from '../map/graph/rebuild-as-links-task.js';

export interface CompletedMap {
  /** Hop addresses given their AS, organisation and country (address_info) now. */
  enriched: number;
  /** Link ends that are no hop (traceroute destinations: the hosts' own addresses) given theirs. */
  destinationsEnriched: number;
  /** as_links was stale (an address changed its AS, a delete) and was rebuilt. */
  asLinksRebuilt: boolean;
  routers: Resolution;
}

/** Passes over the pending hops at most: one is enough unless the output stores hops meanwhile. */
const MAX_ENRICH_PASSES = 10;

/**
 * What the output's cron jobs (enrich_hops, rebuild_as_links, resolve_routers) would do over the next minutes,
 * done at once when a lab run ends: the database the run leaves then holds the whole map, every hop with its AS
 * (the lab's declared ranges, loaded at the start), the AS graph and the routers. Each step is idempotent.
 */
export async function completeLabMap(pool: Pool, onStep?: (text: string) => void): Promise<CompletedMap> {
  onStep?.('completing the map: the AS of every hop');
  let enriched = 0;
  for (let pass = 0; pass < MAX_ENRICH_PASSES; pass++) {
    const written = await enrichPendingHops(pool, { maxBatches: Number.MAX_SAFE_INTEGER });
    enriched += written;
    if (written === 0) break;
  }
  // The output's job enriches hops only, and a destination that answered is a link end but never a hop: without
  // this its node would stay grey in the graph (5 of 76 in lab/internet.yaml). A lab's links are few, so one
  // anti-join over them is cheap here; production needs its own answer for destinations (issue 20's note).
  const { rows } = await pool.query<{ address: string }>(
    `select host(e.address) as address
     from (select near as address from links union select far from links) e
     left join address_info i on i.address = e.address
     where i.address is null`,
  );
  const destinationsEnriched = (
    await enrichAddresses(
      pool,
      rows.map((r) => r.address),
    )
  ).written;
  onStep?.('completing the map: the AS graph');
  const asLinksRebuilt = await rebuildAsLinksIfStale(pool);
  onStep?.('completing the map: routers from the alias evidence');
  const routers = await resolveRouters(pool);
  return { enriched, destinationsEnriched, asLinksRebuilt, routers };
}
