import { parseCrontab, run, type Runner, type TaskList } from 'graphile-worker';
import type { Pool } from '../db/create-pool.js';
import type { Logger } from '../log/create-logger.js';
import { graphileLogger } from './graphile-logger.js';
import { pruneServiceInstances } from './prune-service-instances.js';

/** Tasks every service runs, whatever its kind; graphile-worker makes each cron tick run once cluster-wide. */
const SHARED_TASKS: TaskList = { prune_service_instances: pruneServiceInstances };
const SHARED_CRONTAB = ['*/5 * * * * prune_service_instances ?max=1'];

export interface JobRunnerOptions {
  pool: Pool;
  log: Logger;
  tasks?: TaskList;
  crontab?: string[];
  concurrency?: number;
}

export async function startJobRunner(opts: JobRunnerOptions): Promise<Runner> {
  return run({
    pgPool: opts.pool,
    taskList: { ...SHARED_TASKS, ...opts.tasks },
    parsedCronItems: parseCrontab([...SHARED_CRONTAB, ...(opts.crontab ?? [])].join('\n')),
    concurrency: opts.concurrency ?? 4,
    noHandleSignals: true,
    logger: graphileLogger(opts.log),
  });
}
