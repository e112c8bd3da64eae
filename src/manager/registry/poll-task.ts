import type { Task, TaskList } from 'graphile-worker';
import { pollServices } from './poll-services.js';

const pollServicesTask: Task = async (_payload, helpers) => {
  const s = await pollServices(helpers, { signal: helpers.abortSignal });
  if (s.down || s.degraded)
    helpers.logger.info(`polled ${s.checked} services: ${s.ok} ok, ${s.degraded} degraded, ${s.down} down`);
};

/** For the manager's ServiceModule: graphile-worker runs each cron tick once across all manager instances. */
export const tasks: TaskList = { poll_services: pollServicesTask };

/** Every minute; one attempt, since the next tick polls again anyway. */
export const crontab = ['* * * * * poll_services ?max=1'];
