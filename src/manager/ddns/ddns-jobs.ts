import type { TaskList } from 'graphile-worker';
import type { Logger } from '../../log/create-logger.js';
import { keepDdnsName, type KeepDdnsNameOptions } from './keep-ddns-name.js';

export const DDNS_TASK = 'ddns_keep_name';
/**
 * Every minute, once across all instances (graphile-worker schedules each cron tick once cluster-wide);
 * no retries and no backfill: the next minute's run is the retry.
 */
export const DDNS_CRONTAB = [`* * * * * ${DDNS_TASK} ?max=1`];

/** The dynamic DNS task bound to this instance, and its schedule, for the manager's ServiceParts. */
export function ddnsJobs(opts: KeepDdnsNameOptions & { log: Logger }): { tasks: TaskList; crontab: string[] } {
  const log = opts.log.child({ module: 'ddns' });
  return {
    tasks: {
      // A failure is logged, not thrown: the next minute is the retry, and a failed job would stay in the table.
      [DDNS_TASK]: async () => {
        try {
          const outcome = await keepDdnsName({ ...opts, log });
          if (outcome.action === 'none')
            log.debug({ domain: opts.dyfi.domain, reason: outcome.reason }, 'dy.fi name unchanged');
        } catch (err) {
          log.warn(
            { domain: opts.dyfi.domain, err: { message: (err as Error).message } },
            'dy.fi check failed; next minute retries',
          );
        }
      },
    },
    crontab: DDNS_CRONTAB,
  };
}
