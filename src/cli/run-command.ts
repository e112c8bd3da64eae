import { ConfigError } from '../config/load-config.js';

/** A failure the user can act on from its message alone: printed without a stack trace, exit 1. */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** File-system refusals the user fixes (an owner, a mode, a read-only mount), not a bug of hopmap. */
const PERMISSION_CODES = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * What a command that failed prints after `hopmap: `, and its exit status. A user error is one line and no stack:
 * a configuration error (exit 2), a CommandError, and a path the file system refuses (`EACCES: permission denied,
 * mkdir '/srv/hopmap/.hopmap'`, exit 1). Anything else is a bug: its stack, for the report.
 */
export function commandFailure(err: unknown): { text: string; exitCode: number } {
  if (err instanceof ConfigError) return { text: err.message, exitCode: 2 };
  if (err instanceof CommandError) return { text: err.message, exitCode: 1 };
  const sys = err as NodeJS.ErrnoException | undefined;
  if (sys instanceof Error && typeof sys.code === 'string' && PERMISSION_CODES.has(sys.code) && sys.path)
    return { text: `${sys.message} (check that path's owner and mode)`, exitCode: 1 };
  return { text: (err as Error | undefined)?.stack ?? String(err), exitCode: 1 };
}

/** One way every command ends: a user error prints one line (exit 2 for configuration, else 1), a bug its stack. */
export function runCommand<A extends unknown[]>(
  fn: (...args: A) => Promise<void> | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const { text, exitCode } = commandFailure(err);
      process.stderr.write(`hopmap: ${text}\n`);
      process.exit(exitCode);
    }
  };
}
