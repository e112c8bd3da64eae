import pino, { type Logger } from 'pino';
import pretty, { prettyFactory } from 'pino-pretty';
import { messageOf, QUIET_TERMINAL_ENV, shownOnTerminal } from './quiet-terminal.js';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * One logger per process; modules take `log.child({ module })`.
 * JSON lines by default (what log shippers and fail2ban read); pretty, synchronously, only when a person
 * watches a terminal, so nothing is lost at exit.
 * `quietTerminal` (default: env HOPMAP_QUIET_TERMINAL=1, which `hopmap up` gives its children) shows there
 * only what an operator must act on (quiet-terminal.ts); `write` takes the pretty lines instead of stdout.
 */
export function createLogger(opts: {
  level: LogLevel;
  name?: string;
  pretty?: boolean;
  quietTerminal?: boolean;
  write?: (text: string) => void;
}): Logger {
  const usePretty = opts.pretty ?? (process.stdout.isTTY === true && !process.env.CI);
  const quiet = usePretty && (opts.quietTerminal ?? process.env[QUIET_TERMINAL_ENV] === '1');
  const isTTY = process.stdout.isTTY === true;
  const options: pino.LoggerOptions = {
    level: opts.level,
    base: opts.name ? { service: opts.name } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(quiet && {
      hooks: {
        logMethod(args, method, level) {
          if (shownOnTerminal({ isTTY, level, message: messageOf(args) })) method.apply(this, args);
        },
      },
    }),
  };
  if (!usePretty) return pino(options);
  // graphile-worker's scope (label, workerId) says nothing to a person reading the quiet terminal.
  const ignore = quiet ? 'pid,hostname,label,workerId' : 'pid,hostname';
  const prettyOptions = { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore };
  if (opts.write) {
    const format = prettyFactory(prettyOptions);
    const write = opts.write;
    return pino(options, { write: (line: string) => write(format(line)) });
  }
  return pino(options, pretty({ ...prettyOptions, sync: true }));
}
