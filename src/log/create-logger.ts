import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * One logger per process; modules take `log.child({ module })`.
 * JSON lines by default (what log shippers and fail2ban read); pretty, synchronously, only when a person
 * watches a terminal, so nothing is lost at exit.
 */
export function createLogger(opts: { level: LogLevel; name?: string; pretty?: boolean }): Logger {
  const usePretty = opts.pretty ?? (process.stdout.isTTY === true && !process.env.CI);
  const options = {
    level: opts.level,
    base: opts.name ? { service: opts.name } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (!usePretty) return pino(options);
  return pino(options, pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}
