import { hostname } from 'node:os';
import type { Pool } from '../db/create-pool.js';
import type { ServiceIdentity } from '../http/service-identity.js';
import type { Logger } from '../log/create-logger.js';

export const HEARTBEAT_MS = 15_000;

/** Registers this instance in service_instances and keeps its heartbeat fresh until stopped. */
export async function registerInstance(
  pool: Pool,
  identity: ServiceIdentity,
  url: string,
  log: Logger,
): Promise<{ stop(): Promise<void> }> {
  const upsert = () =>
    pool.query(
      `insert into service_instances (instance_id, service_type, name, version, url, hostname, pid, capabilities)
       values ($1, $2, $3, $4, $5, $6, $7, $8)
       on conflict (instance_id) do update set last_seen_at = now(), url = excluded.url`,
      [
        identity.instanceId,
        identity.serviceType,
        identity.name,
        identity.version,
        url,
        hostname(),
        process.pid,
        identity.capabilities,
      ],
    );
  await upsert();
  const timer = setInterval(() => {
    upsert().catch((err: Error) => log.warn({ err: { message: err.message } }, 'heartbeat failed; will retry'));
  }, HEARTBEAT_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await pool
        .query('delete from service_instances where instance_id = $1', [identity.instanceId])
        .catch((err: Error) => {
          log.warn({ err: { message: err.message } }, 'could not deregister; the prune job will remove it');
        });
    },
  };
}
