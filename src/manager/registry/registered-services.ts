import type { Pool } from '../../db/create-pool.js';
import { int8 } from '../../db/int8.js';
import type { registeredServices } from '../../db/schema/manager.js';
import { HttpError } from '../../http/http-error.js';

export type RegisteredService = typeof registeredServices.$inferSelect;
export type NewService = Pick<
  typeof registeredServices.$inferInsert,
  'url' | 'name' | 'serviceType' | 'instanceId' | 'version' | 'capabilities'
>;
export const SERVICE_STATUSES = ['down', 'degraded', 'unknown', 'ok'] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

/** A registered service's row under its schema names, the id still the int8 string node-postgres gives (fromRow). */
const SERVICE_COLUMNS = `id, url, name, service_type as "serviceType", instance_id as "instanceId", version, capabilities,
  status, last_seen_at as "lastSeenAt", last_checked_at as "lastCheckedAt", last_error as "lastError", details,
  created_at as "createdAt"`;
type ServiceRow = Omit<RegisteredService, 'id'> & { id: string };
const fromRow = (r: ServiceRow): RegisteredService => ({ ...r, id: int8(r.id) });

/** Problems first (down, degraded, unknown, then ok), then by name: what an operator must look at is on top. */
export async function listServices(pool: Pool): Promise<RegisteredService[]> {
  const { rows } = await pool.query<ServiceRow>(
    `select ${SERVICE_COLUMNS} from manager.registered_services
      order by case status when 'down' then 0 when 'degraded' then 1 when 'unknown' then 2 else 3 end, name, id`,
  );
  return rows.map(fromRow);
}

export async function findServiceByUrl(pool: Pool, url: string): Promise<RegisteredService | undefined> {
  const { rows } = await pool.query<ServiceRow>(
    `select ${SERVICE_COLUMNS} from manager.registered_services where url = $1`,
    [url],
  );
  return rows[0] && fromRow(rows[0]);
}

export async function insertService(pool: Pool, values: NewService): Promise<RegisteredService> {
  try {
    const { rows } = await pool.query<ServiceRow>(
      `insert into manager.registered_services (url, name, service_type, instance_id, version, capabilities)
       values ($1, $2, $3, $4, $5, coalesce($6::jsonb, '[]'::jsonb)) returning ${SERVICE_COLUMNS}`,
      [
        values.url,
        values.name,
        values.serviceType,
        values.instanceId ?? null,
        values.version ?? null,
        values.capabilities === undefined ? null : JSON.stringify(values.capabilities),
      ],
    );
    return fromRow(rows[0]!);
  } catch (err) {
    if ((err as { code?: unknown }).code === '23505')
      throw new HttpError(409, 'already_registered', `${values.url} is already registered`);
    throw err;
  }
}

export async function renameService(pool: Pool, id: number, name: string): Promise<RegisteredService | undefined> {
  const { rows } = await pool.query<ServiceRow>(
    `update manager.registered_services set name = $2 where id = $1 returning ${SERVICE_COLUMNS}`,
    [id, name],
  );
  return rows[0] && fromRow(rows[0]);
}

export async function removeService(pool: Pool, id: number): Promise<RegisteredService | undefined> {
  const { rows } = await pool.query<ServiceRow>(
    `delete from manager.registered_services where id = $1 returning ${SERVICE_COLUMNS}`,
    [id],
  );
  return rows[0] && fromRow(rows[0]);
}

/** The JSON shape of a registered service in the API. */
export function serviceJson(s: RegisteredService) {
  return {
    id: s.id,
    url: s.url,
    name: s.name,
    service_type: s.serviceType,
    instance_id: s.instanceId,
    version: s.version,
    capabilities: s.capabilities,
    status: s.status,
    last_seen_at: s.lastSeenAt?.toISOString() ?? null,
    last_checked_at: s.lastCheckedAt?.toISOString() ?? null,
    last_error: s.lastError,
    details: s.details,
    created_at: s.createdAt.toISOString(),
  };
}
