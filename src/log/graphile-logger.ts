import { Logger as GraphileLogger, type LogLevel } from 'graphile-worker';
import type { Logger } from './create-logger.js';

/** pino's method for each of graphile-worker's levels (a const enum of these strings, so keyed by its values). */
const METHODS: Record<`${LogLevel}`, 'error' | 'warn' | 'info' | 'debug'> = {
  error: 'error',
  warning: 'warn',
  info: 'info',
  debug: 'debug',
};

/** Routes graphile-worker's log lines into our pino logger, keeping its scope (task, job id) as fields. */
export function graphileLogger(log: Logger): GraphileLogger {
  return new GraphileLogger((scope) => {
    const child = log.child({ module: 'jobs', ...scope });
    return (level, message, meta) => {
      const method = graphileMethod(level, message);
      child[method](meta ?? {}, message);
    };
  });
}

/** graphile-worker's `Completed task 12 (poll_services, 1.14ms) with success`: a first attempt that went well. */
const ROUTINE_COMPLETION = /^Completed task \S+ \([^,()]+, [\d.]+ms\) with success$/;

/**
 * pino's method for one of graphile-worker's lines. Its routine completions (every cron tick of every task,
 * with the whole job as JSON) are debug; a success after failed attempts, failures and retries keep their level.
 */
export function graphileMethod(level: `${LogLevel}`, message: string): 'error' | 'warn' | 'info' | 'debug' {
  const method = METHODS[level] ?? 'debug';
  return method === 'info' && ROUTINE_COMPLETION.test(message) ? 'debug' : method;
}
