import type { Pool } from '../../db/create-pool.js';
import { HttpError } from '../../http/http-error.js';
import { detectService } from './detect-service.js';
import { checkService } from './poll-services.js';
import { findServiceByUrl, insertService, type RegisteredService } from './registered-services.js';
import { normalizeServiceUrl } from './service-url.js';

export interface RegisterInput {
  url: string;
  /** Overrides the name the service gives itself. */
  name?: string | undefined;
}

/**
 * Registers a service by URL alone: its /service-info says what it is and suggests the name, then a first
 * health check fills in its status, so the list is right at once rather than after the next poll.
 */
export async function registerService(
  pool: Pool,
  input: RegisterInput,
  opts: { timeoutMs?: number } = {},
): Promise<RegisteredService> {
  const url = normalizeServiceUrl(input.url);
  const existing = await findServiceByUrl(pool, url);
  if (existing)
    throw new HttpError(409, 'already_registered', `${url} is already registered as ${JSON.stringify(existing.name)}`);
  const found = await detectService(url, opts);
  const row = await insertService(pool, {
    url,
    name: input.name?.trim() || found.name,
    serviceType: found.serviceType,
    instanceId: found.instanceId,
    version: found.version,
    capabilities: found.capabilities,
  });
  await checkService(pool, { id: row.id, url: row.url, instance_id: row.instanceId }, opts);
  return (await findServiceByUrl(pool, url)) ?? row;
}
