import { Command } from 'commander';
import { z } from 'zod';
import { addDatabaseOptions, databaseConfigShape, loadCommandConfig } from '../config/common-config.js';
import { createPool, redactUrl } from '../db/create-pool.js';
import { migrateDatabase } from '../db/migrate.js';
import { resolveDatabase } from '../db/resolve-database.js';
import { createLogger } from '../log/create-logger.js';
import { mergeDump } from '../results/merge-dump.js';
import { ingestFollowUps } from './output-wiring.js';
import { CommandError, runCommand } from './run-command.js';

const mergeConfig = z.object({ ...databaseConfigShape, pgRestore: z.string().min(1).optional() });

/** `hopmap merge A.dump B.dump ...`: the central aggregation of several deployments' GET /dump archives. */
export function mergeCommand(): Command {
  const cmd = addDatabaseOptions(new Command('merge'))
    .description(
      'merge GET /dump archives into this database: results once each, links and hops rebuilt (safe to repeat)',
    )
    .argument('<dump...>', 'pg_dump custom-format archives from GET /dump')
    .option('--pg-restore <path>', 'pg_restore to read the archives with (default: the newest on the machine)');
  cmd.action(
    runCommand(async (files: string[]) => {
      const cfg = loadCommandConfig(cmd, mergeConfig);
      const log = createLogger({
        level: cfg.verbose ? 'debug' : cfg.logLevel === 'info' ? 'warn' : cfg.logLevel,
        name: 'merge',
      });
      const db = await resolveDatabase(cfg, log);
      // Direct: the merge stages the dump in temporary tables, which live as long as the session.
      const pool = createPool(db.directUrl, log, { max: 4 });
      try {
        await migrateDatabase(db.directUrl, log);
        for (const file of files) {
          const o = await mergeDump(pool, file, ingestFollowUps, { pgRestore: cfg.pgRestore }).catch((err: Error) => {
            throw new CommandError(err.message.startsWith(`${file}: `) ? err.message : `${file}: ${err.message}`);
          });
          process.stdout.write(
            `${file} -> ${redactUrl(db.directUrl)}: results ${o.results.stored} stored, ${o.results.duplicate} already here, ${o.results.rejected} rejected (of ${o.results.read}); ` +
              `hops ${o.hops.added} new (of ${o.hops.read}); links from retired results ${o.links.added} new (of ${o.links.read}); ` +
              `retired ids ${o.retiredIds.added} new (of ${o.retiredIds.read})\n`,
          );
        }
      } finally {
        await pool.end();
        await db.embedded?.release();
      }
    }),
  );
  return cmd;
}
