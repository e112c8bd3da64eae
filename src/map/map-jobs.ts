import type { JobSet } from '../jobs/job-set.js';
import { crontab as enrichCrontab, tasks as enrichTasks } from './enrich/index.js';
import { rebuildAsLinksCrontab, rebuildAsLinksTasks } from './graph/rebuild-as-links-task.js';

/**
 * The map's background jobs: `enrich_hops` (every minute: AS and country of new hops) and `rebuild_as_links`
 * (every 5 minutes: the AS graph's table, when stale). The output service runs them, as the process composing
 * it passes them in (src/cli/output-wiring.ts).
 */
export const mapJobs: JobSet = () => ({
  tasks: { ...enrichTasks, ...rebuildAsLinksTasks },
  crontab: [...enrichCrontab, ...rebuildAsLinksCrontab],
});
