import { hostname } from 'node:os';
import type { Pool } from '../../db/create-pool.js';

export type UpstreamType = 'input' | 'output';

/** Three missed heartbeats (src/service/instance-registry.ts beats every 15 s). */
const HEARTBEAT_FRESH = '45 seconds';
/** Three missed polls of the registry (poll_services runs every minute). */
const POLL_FRESH = '3 minutes';
/** A service bound to 0.0.0.0 registers as 127.0.0.1: that URL means "this machine" only on its own host. */
const LOOPBACK_URL = '^https?://(127\\.|localhost[:/]|\\[::1\\])';

/**
 * Base URLs of the instances of `type` that look alive: those heartbeating in service_instances (loopback
 * ones only when on this host) and those registered by URL whose last health check was ok and recent.
 * The registry covers instances on other hosts, whose self-registered URL may not be reachable from here.
 */
export async function findUpstreams(pool: Pool, type: UpstreamType, host = hostname()): Promise<string[]> {
  const { rows } = await pool.query<{ url: string }>(
    `select url from service_instances
      where service_type = $1 and url is not null and last_seen_at > now() - $3::interval
        and (hostname = $2 or url !~ $4)
     union
     select url from manager.registered_services
      where service_type = $1 and status = 'ok' and last_seen_at > now() - $5::interval
     order by url`,
    [type, host, HEARTBEAT_FRESH, LOOPBACK_URL, POLL_FRESH],
  );
  return rows.map((r) => r.url.replace(/\/+$/, ''));
}
