import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { Pool } from '../db/create-pool.js';
import { HttpError } from '../http/http-error.js';
import type { Logger } from '../log/create-logger.js';
import { checkService } from '../manager/registry/poll-services.js';
import { registerService } from '../manager/registry/register-service.js';
import { findServiceByUrl, removeService } from '../manager/registry/registered-services.js';
import { normalizeServiceUrl } from '../manager/registry/service-url.js';

/** A service `hopmap up` started, by the base URL the manager polls (its /service-info and /health). */
export interface UpServiceUrl {
  /** input, output, worker: for the banner and the log. */
  label: string;
  url: string;
}

/** One row of the manager's registry (manager.registered_services) that `up` registered. */
const recorded = z.object({ id: z.number().int(), url: z.string() });
type Recorded = z.infer<typeof recorded>;
const recordedFile = z.object({ services: z.array(recorded) });

/**
 * The registry rows `up` made, kept in its state dir: a later start (after a crash, or with other ports) and
 * the stop remove exactly these, never a service an operator registered elsewhere. A row counts only while
 * its id and URL both match, so the file of another database removes nothing.
 */
export const REGISTERED_FILE = 'registered-services.json';

/**
 * Registers `services` with the manager, as an operator adding them by URL on /workers would: each one's
 * /service-info says what it is and a first health check sets its status, so the dashboard shows them from
 * its first page. Rows an earlier start left (a crash, another port) go first; a row already at one of these
 * URLs is kept and checked now rather than duplicated. /service-info and /health take no key (input and
 * output keep their keys for the other routes; the worker's health server has none), so nothing secret is
 * stored. Resolves with the labels that could not be registered (each logged as a warning).
 */
export async function registerUpServices(
  pool: Pool,
  stateDir: string,
  services: UpServiceUrl[],
  log: Logger,
  opts: { timeoutMs?: number } = {},
): Promise<{ failed: string[] }> {
  const wanted = services.map((s) => ({ ...s, url: normalizeServiceUrl(s.url) }));
  const kept: Recorded[] = [];
  for (const old of readRecorded(stateDir)) {
    if (wanted.some((s) => s.url === old.url)) continue;
    const row = await findServiceByUrl(pool, old.url);
    if (row?.id === old.id) {
      await removeService(pool, row.id);
      log.debug({ url: old.url }, 'removed a service an earlier start registered');
    }
  }
  const failed: string[] = [];
  const timeoutMs = opts.timeoutMs ?? 5_000;
  for (const s of wanted) {
    try {
      const existing = await findServiceByUrl(pool, s.url);
      if (existing) {
        await checkService(
          pool,
          { id: existing.id, url: existing.url, instance_id: existing.instanceId },
          { timeoutMs },
        );
        kept.push({ id: existing.id, url: s.url });
      } else {
        const row = await registerService(pool, { url: s.url }, { timeoutMs });
        kept.push({ id: row.id, url: row.url });
      }
      writeRecorded(stateDir, kept);
    } catch (err) {
      // 409: registered in the moment between the lookup and the insert, by an operator or another start.
      if (err instanceof HttpError && err.status === 409) continue;
      failed.push(s.label);
      log.warn(
        { url: s.url, err: { message: (err as Error).message } },
        `could not register the ${s.label} with the manager; add it on /workers`,
      );
    }
  }
  writeRecorded(stateDir, kept);
  return { failed };
}

/** Removes what `registerUpServices` registered, at the stop of `up`. */
export async function deregisterUpServices(pool: Pool, stateDir: string, log: Logger): Promise<void> {
  const left: Recorded[] = [];
  for (const r of readRecorded(stateDir)) {
    try {
      const row = await findServiceByUrl(pool, r.url);
      if (row?.id === r.id) await removeService(pool, r.id);
    } catch (err) {
      left.push(r);
      log.warn({ url: r.url, err: { message: (err as Error).message } }, 'could not deregister; the next start will');
    }
  }
  writeRecorded(stateDir, left);
}

function recordFile(stateDir: string): string {
  return join(resolve(stateDir), REGISTERED_FILE);
}

function readRecorded(stateDir: string): Recorded[] {
  let text: string;
  try {
    text = readFileSync(recordFile(stateDir), 'utf8');
  } catch {
    return [];
  }
  try {
    const parsed = recordedFile.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.services : [];
  } catch {
    return [];
  }
}

function writeRecorded(stateDir: string, services: Recorded[]): void {
  const file = recordFile(stateDir);
  mkdirSync(resolve(stateDir), { recursive: true });
  const temp = `${file}.${process.pid}`;
  const note = 'rows of the manager registry that hopmap up registered; it removes them at stop';
  writeFileSync(temp, `${JSON.stringify({ note, services }, null, 2)}\n`);
  renameSync(temp, file);
}
