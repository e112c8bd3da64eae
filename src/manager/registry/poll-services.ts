import type { registeredServices } from '../../db/schema/manager.js';
import type { TableRow } from '../../db/table-row.js';
import { detectService, type DetectedService } from './detect-service.js';
import { getJson, NoAnswer } from './get-json.js';
import { judgeHealth, type HealthVerdict } from './judge-health.js';

/**
 * A pool, a client or graphile-worker's job helpers. Plain SQL here because the poll runs on the job's
 * query helper, which takes a connection per statement and holds none during the HTTP checks.
 */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface PollOptions {
  /** Per request (/health, and /service-info when the instance changed). */
  timeoutMs?: number;
  /** Services checked at once. */
  concurrency?: number;
  /** Aborts checks in flight (shutdown); aborted checks change nothing. */
  signal?: AbortSignal | undefined;
}

export interface PollSummary {
  checked: number;
  ok: number;
  degraded: number;
  down: number;
}

/** The id only goes back into SQL, so the int8 string as read (or a number from a caller) will do. */
type ServiceRow = Pick<TableRow<typeof registeredServices>, 'url' | 'instance_id'> & { id: string | number };

export const POLL_TIMEOUT_MS = 5_000;

/** Checks every registered service's /health at once (bounded), and records status, figures and errors. */
export async function pollServices(db: Queryable, opts: PollOptions = {}): Promise<PollSummary> {
  const { rows } = await db.query('select id, url, instance_id from manager.registered_services order by id');
  const summary: PollSummary = { checked: 0, ok: 0, degraded: 0, down: 0 };
  const queue = [...(rows as ServiceRow[])];
  const lane = async () => {
    for (let row = queue.shift(); row && !opts.signal?.aborted; row = queue.shift()) {
      const verdict = await checkService(db, row, opts);
      if (!verdict) continue;
      summary.checked++;
      summary[verdict.status]++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 16, queue.length) }, lane));
  return summary;
}

/** Checks one service and records the verdict; undefined when aborted. */
export async function checkService(
  db: Queryable,
  row: ServiceRow,
  opts: PollOptions = {},
): Promise<HealthVerdict | undefined> {
  const timeoutMs = opts.timeoutMs ?? POLL_TIMEOUT_MS;
  const url = `${row.url}/health`;
  let verdict: HealthVerdict;
  try {
    verdict = judgeHealth(url, { answer: await getJson(url, { timeoutMs, signal: opts.signal }) });
  } catch (err) {
    if (opts.signal?.aborted) return undefined;
    if (!(err instanceof NoAnswer)) throw err;
    verdict = judgeHealth(url, { failure: err.message });
  }
  let identity: DetectedService | undefined;
  if (verdict.instanceId && verdict.instanceId !== row.instance_id) {
    // Restarted or replaced: read what it is now. On failure the old identity stays and the next poll retries.
    identity = await detectService(row.url, { timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) }).catch(
      (err: Error) => {
        verdict = { ...verdict, status: 'degraded', error: err.message };
        return undefined;
      },
    );
  }
  if (opts.signal?.aborted) return undefined;
  await db.query(
    `update manager.registered_services
        set status = $2, last_error = $3, last_checked_at = now(),
            last_seen_at = case when $4 then now() else last_seen_at end,
            details = coalesce($5::jsonb, details),
            instance_id = coalesce($6, instance_id), service_type = coalesce($7, service_type),
            version = coalesce($8, version), capabilities = coalesce($9::jsonb, capabilities)
      where id = $1`,
    [
      row.id,
      verdict.status,
      verdict.error,
      verdict.seen,
      verdict.details ? JSON.stringify(verdict.details) : null,
      identity?.instanceId ?? null,
      identity?.serviceType ?? null,
      identity?.version ?? null,
      identity ? JSON.stringify(identity.capabilities) : null,
    ],
  );
  return verdict;
}
