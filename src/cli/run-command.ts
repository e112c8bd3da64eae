import { ConfigError } from '../config/load-config.js';

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
      process.stderr.write(`hopmap: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    }
  };
}
