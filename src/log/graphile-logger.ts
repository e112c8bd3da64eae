import { Logger as GraphileLogger } from 'graphile-worker';
import type { Logger } from './create-logger.js';

/** Routes graphile-worker's log lines into our pino logger, keeping its scope (task, job id) as fields. */
export function graphileLogger(log: Logger): GraphileLogger {
  return new GraphileLogger((scope) => {
    const child = log.child({ module: 'jobs', ...scope });
    return (level, message, meta) => {
      const method = level === 'error' ? 'error' : level === 'warning' ? 'warn' : level === 'info' ? 'info' : 'debug';
      child[method](meta ?? {}, message);
    };
  });
}
