import { parseCrontab, run, type Runner, type TaskList } from 'graphile-worker';
import { assertOwnSession } from '../db/assert-own-session.js';
import type { Pool } from '../db/create-pool.js';
import type { Logger } from '../log/create-logger.js';
import { graphileLogger } from '../log/graphile-logger.js';
import { pruneServiceInstances } from './prune-service-instances.js';

/** Tasks every service runs, whatever its kind; graphile-worker makes each cron tick run once cluster-wide. */
const SHARED_TASKS: TaskList = { prune_service_instances: pruneServiceInstances };
const SHARED_CRONTAB = ['*/5 * * * * prune_service_instances ?max=1'];

export interface JobRunnerOptions {
  /**
   * On the PostgreSQL server itself (DATABASE_DIRECT_URL), not PgBouncer in transaction mode: graphile-worker
   * keeps a LISTEN on one of its clients and migrates its schema at start.
   */
  pool: Pool;
  /** The pool's URL, for the error when it turns out not to keep sessions. */
  url?: string;
  log: Logger;
  tasks?: TaskList;
  crontab?: string[];
  concurrency?: number;
}

/** Clients graphile-worker holds at most: one per concurrent job, the LISTEN client, and one for cron and housekeeping. */
export const jobPoolSize = (concurrency: number): number => concurrency + 2;

export async function startJobRunner(opts: JobRunnerOptions): Promise<Runner> {
  await assertOwnSession(opts.pool, opts.url ?? 'the job pool', 'graphile-worker (its LISTEN for new jobs)');
  return run({
    pgPool: opts.pool,
    taskList: { ...SHARED_TASKS, ...opts.tasks },
    parsedCronItems: parseCrontab([...SHARED_CRONTAB, ...(opts.crontab ?? [])].join('\n')),
    concurrency: opts.concurrency ?? 4,
    noHandleSignals: true,
    logger: graphileLogger(opts.log),
  });
}
