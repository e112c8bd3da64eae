import { Command } from 'commander';
import { z } from 'zod';
import { addDatabaseOptions, databaseConfigShape, loadCommandConfig } from '../config/common-config.js';
import { redactUrl } from '../db/create-pool.js';
import { migrateDatabase } from '../db/migrate.js';
import { resolveDatabase } from '../db/resolve-database.js';
import { createLogger } from '../log/create-logger.js';
import { runCommand } from './run-command.js';

export function migrateCommand(): Command {
  const cmd = new Command('migrate').description(
    "apply hopmap's migrations and graphile-worker's schema (safe to run concurrently)",
  );
  addDatabaseOptions(cmd).action(
    runCommand(async () => {
      const cfg = loadCommandConfig(cmd, z.object(databaseConfigShape));
      const log = createLogger({ level: cfg.verbose ? 'debug' : cfg.logLevel, name: 'migrate' });
      const db = await resolveDatabase(cfg, log);
      try {
        const result = await migrateDatabase(db.directUrl, log);
        process.stdout.write(
          `${redactUrl(db.directUrl)}: ${result.applied} migration(s) applied, ${result.total} in all; graphile-worker schema current\n`,
        );
      } finally {
        await db.embedded?.release();
      }
    }),
  );
  return cmd;
}
