/**
 * What `hopmap up` prints on a terminal. A person reads along there: a progress line while it starts, the
 * banner, then only what an operator must act on, so the banner stays on screen. Anywhere else (systemd,
 * a pipe, a test) every line goes out as before, as structured JSON lines that tools may parse.
 */

/** Set by `hopmap up` for its children when it runs quiet on a terminal (they inherit the terminal). */
export const QUIET_TERMINAL_ENV = 'HOPMAP_QUIET_TERMINAL';

/** pino's numeric levels. */
const WARN = 40;
const INFO = 30;

/**
 * Info lines an operator must act on, shown on the quiet terminal although below warn. The manager's poll
 * says `polled N services: …` only when a registered service is down or degraded (poll-task.ts).
 */
const ACTIONABLE_INFO: readonly RegExp[] = [/^polled \d+ services: /];

export interface TerminalLine {
  /** Whether the process's stdout is a terminal. */
  isTTY: boolean;
  /** pino's numeric level of the line. */
  level: number;
  message: string;
}

/**
 * Whether a log line shows on `hopmap up`'s quiet terminal: warnings, errors and the few info lines that ask
 * for action. Off a terminal every line shows (the logger's level still applies), so structured logs are
 * unchanged.
 */
export function shownOnTerminal(line: TerminalLine): boolean {
  if (!line.isTTY) return true;
  if (line.level >= WARN) return true;
  if (line.level < INFO) return false;
  return ACTIONABLE_INFO.some((re) => re.test(line.message));
}

/**
 * Whether `hopmap up` runs quiet: on a terminal (not CI), at the default level. `--verbose` or another
 * `--log-level` shows every line of that level, as before.
 */
export function quietTerminal(opts: { isTTY: boolean; ci: boolean; verbose: boolean; logLevel: string }): boolean {
  return opts.isTTY && !opts.ci && !opts.verbose && opts.logLevel === 'info';
}

/** The message of a pino call's arguments: `log.info('text')` or `log.info({ …fields }, 'text')`. */
export function messageOf(args: readonly unknown[]): string {
  const text = typeof args[0] === 'string' ? args[0] : args[1];
  return typeof text === 'string' ? text : '';
}
