import type { JobSet } from '../jobs/job-set.js';
import { resolveRoutersCrontab, resolveRoutersTasks } from './resolve-routers-task.js';

/**
 * The aliases' background job: `resolve_routers` (every minute: alias evidence into routers), on the pool of the
 * service that runs it (the output service, as the process composing it passes it in: src/cli/output-wiring.ts).
 */
export const aliasJobs: JobSet = (pool) => ({ tasks: resolveRoutersTasks(pool), crontab: resolveRoutersCrontab });
