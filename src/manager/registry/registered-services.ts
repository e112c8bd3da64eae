import { asc, eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool } from '../../db/create-pool.js';
import { registeredServices } from '../../db/schema/manager.js';
import { HttpError } from '../../http/http-error.js';

export type RegisteredService = typeof registeredServices.$inferSelect;
export type NewService = Pick<
  typeof registeredServices.$inferInsert,
  'url' | 'name' | 'serviceType' | 'instanceId' | 'version' | 'capabilities'
>;
export const SERVICE_STATUSES = ['down', 'degraded', 'unknown', 'ok'] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

/** Problems first (down, degraded, unknown, then ok), then by name: what an operator must look at is on top. */
const problemsFirst = sql`case ${registeredServices.status} when 'down' then 0 when 'degraded' then 1 when 'unknown' then 2 else 3 end`;

export function listServices(pool: Pool): Promise<RegisteredService[]> {
  return drizzle({ client: pool })
    .select()
    .from(registeredServices)
    .orderBy(problemsFirst, asc(registeredServices.name), asc(registeredServices.id));
}

export async function findServiceByUrl(pool: Pool, url: string): Promise<RegisteredService | undefined> {
  const [row] = await drizzle({ client: pool })
    .select()
    .from(registeredServices)
    .where(eq(registeredServices.url, url));
  return row;
}

export async function insertService(pool: Pool, values: NewService): Promise<RegisteredService> {
  try {
    const [row] = await drizzle({ client: pool }).insert(registeredServices).values(values).returning();
    return row!;
  } catch (err) {
    if (uniqueViolation(err)) throw new HttpError(409, 'already_registered', `${values.url} is already registered`);
    throw err;
  }
}

export async function renameService(pool: Pool, id: number, name: string): Promise<RegisteredService | undefined> {
  const [row] = await drizzle({ client: pool })
    .update(registeredServices)
    .set({ name })
    .where(eq(registeredServices.id, id))
    .returning();
  return row;
}

export async function removeService(pool: Pool, id: number): Promise<RegisteredService | undefined> {
  const [row] = await drizzle({ client: pool })
    .delete(registeredServices)
    .where(eq(registeredServices.id, id))
    .returning();
  return row;
}

/** drizzle wraps driver errors; the SQLSTATE is on the error or its cause. */
function uniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code === '23505' || e?.cause?.code === '23505';
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
