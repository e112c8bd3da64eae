import type { Task } from 'graphile-worker';

/** Instances that stopped heartbeating (killed, host lost) for 10 minutes, 40 missed heartbeats, are gone. */
export const pruneServiceInstances: Task = async (_payload, helpers) => {
  const { rowCount } = await helpers.query(
    `delete from service_instances where last_seen_at < now() - interval '10 minutes'`,
  );
  if (rowCount) helpers.logger.info(`pruned ${rowCount} stale service instances`);
};
