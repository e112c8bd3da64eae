import { ConfigError } from '../config/load-config.js';

/** A failure the user can act on from its message alone: printed without a stack trace, exit 1. */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** One way every command ends: a configuration error exits 2 with its message, any other error exits 1. */
export function runCommand<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`hopmap: ${err.message}\n`);
        process.exit(2);
      }
      if (err instanceof CommandError) {
        process.stderr.write(`hopmap: ${err.message}\n`);
        process.exit(1);
      }
      process.stderr.write(`hopmap: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    }
  };
}
