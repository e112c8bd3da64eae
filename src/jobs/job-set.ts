import type { TaskList } from 'graphile-worker';
import type { Pool } from '../db/create-pool.js';

/**
 * A capability's background jobs: its graphile-worker tasks and the crontab lines that schedule them, made
 * for the pool of the service whose job runner runs them. The process that composes that service passes the
 * set in; graphile-worker runs each cron tick once across the service's instances, so a set goes to one kind
 * of service only.
 */
export type JobSet = (pool: Pool) => { tasks: TaskList; crontab: string[] };
