import type { Task, TaskList } from 'graphile-worker';
import type { Pool, PoolClient } from '../../db/create-pool.js';
import { int8 } from '../../db/int8.js';
import { currentDataVersion } from './data-version.js';
import { enrichAddresses } from './enrich-addresses.js';

const BATCH = 5_000;

/**
 * Enriches hops that have no address_info row, or one from older range data, `batch` at a time in hop id order
 * (keyset, so a hop that cannot be written is not fetched again). Does nothing until ranges are loaded.
 */
export async function enrichPendingHops(
  db: Pool | PoolClient,
  opts: { batch?: number; maxBatches?: number } = {},
): Promise<number> {
  const version = await currentDataVersion(db);
  if (version === null) return 0;
  let afterId = 0;
  let total = 0;
  for (let n = 0; n < (opts.maxBatches ?? 100); n++) {
    const { rows } = await db.query<{ id: string; address: string }>(
      `select h.id, host(h.address) as address from hops h
       left join address_info i on i.address = h.address
       where h.id > $1 and (i.address is null or i.data_version is distinct from $2)
       order by h.id limit $3`,
      [afterId, version, opts.batch ?? BATCH],
    );
    if (rows.length === 0) break;
    total += (
      await enrichAddresses(
        db,
        rows.map((r) => r.address),
      )
    ).written;
    afterId = int8(rows[rows.length - 1]!.id);
  }
  return total;
}

export const enrichHopsTask: Task = async (_payload, helpers) => {
  const written = await helpers.withPgClient((client) => enrichPendingHops(client));
  if (written) helpers.logger.info(`enriched ${written} hop addresses`);
};

/** For a service's job runner: `startService({ tasks: { ...tasks }, crontab: [...crontab] })`. */
export const tasks: TaskList = { enrich_hops: enrichHopsTask };
// Every minute, so a new hop has its AS within a minute; a run with nothing pending is one indexed query.
export const crontab = ['* * * * * enrich_hops ?max=1'];
