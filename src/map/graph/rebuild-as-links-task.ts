import type { Task } from 'graphile-worker';
import type { Pool, PoolClient } from '../../db/create-pool.js';

/**
 * Recomputes `as_links` when a change the triggers cannot add up (an address leaving its AS, a delete) marked it
 * stale; a no-op read of one row otherwise. Holds writers to `as_links` (ingest, enrichment) back while it runs:
 * about as long as one direct AS aggregation (2-3 s at 1,000,000 links).
 */
export async function rebuildAsLinksIfStale(db: Pool | PoolClient): Promise<boolean> {
  const { rows } = await db.query<{ stale: boolean }>('select stale from as_links_state');
  if (!rows[0]?.stale) return false;
  await db.query('select as_links_rebuild()');
  return true;
}

const rebuildAsLinksTask: Task = async (_payload, helpers) => {
  if (await helpers.withPgClient((client) => rebuildAsLinksIfStale(client))) helpers.logger.info('rebuilt as_links');
};

/** For the output service's job runner. */
export const rebuildAsLinksTasks = { rebuild_as_links: rebuildAsLinksTask };
// Every 5 minutes: while stale, AS graph requests aggregate `links` directly (exact, only slower).
export const rebuildAsLinksCrontab = ['*/5 * * * * rebuild_as_links ?max=1'];
