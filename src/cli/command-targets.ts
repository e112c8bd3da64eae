import { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { z } from 'zod';
import { addDatabaseOptions, databaseConfigShape, loadCommandConfig } from '../config/common-config.js';
import { createPool } from '../db/create-pool.js';
import { migrateDatabase } from '../db/migrate.js';
import { resolveDatabase } from '../db/resolve-database.js';
import { createLogger } from '../log/create-logger.js';
import { importTargets, type ImportProgress } from '../targets/import-targets.js';
import { runCommand } from './run-command.js';

export function targetsCommand(): Command {
  const targets = new Command('targets').description('the target pool');
  const imp = addDatabaseOptions(new Command('import'))
    .description(
      'load target files (one CIDR or address per line, # comments) idempotently; a changed file is reconciled',
    )
    .argument('<path>', 'a .txt file or a directory of them');
  imp.action(
    runCommand(async (path: string) => {
      const cfg = loadCommandConfig(imp, z.object(databaseConfigShape));
      const log = createLogger({
        level: cfg.verbose ? 'debug' : cfg.logLevel === 'info' ? 'warn' : cfg.logLevel,
        name: 'targets',
      });
      const db = await resolveDatabase(cfg, log);
      const pool = createPool(db.url, log, { max: 2 });
      try {
        await migrateDatabase(db.directUrl, log);
        const bar = process.stderr.isTTY
          ? new SingleBar({ format: 'importing [{bar}] {value}/{total} files  {file}', stream: process.stderr })
          : undefined;
        let started = false;
        const progress: ImportProgress = (done, total, file) => {
          if (!bar) return;
          if (!started) bar.start(total, 0, { file });
          started = true;
          bar.update(done, { file });
        };
        const s = await importTargets(pool, path, progress);
        bar?.stop();
        for (const line of s.errors) process.stderr.write(`${line}\n`);
        process.stdout.write(
          `${s.files} file(s) (${s.unchanged} unchanged): ${s.blocks} blocks loaded, ${s.addresses} addresses; ` +
            `${s.added} blocks added, ${s.removed} removed; ${s.skipped} lines skipped, ${s.duplicates} duplicate lines\n`,
        );
      } finally {
        await pool.end();
        await db.embedded?.release();
      }
    }),
  );
  return targets.addCommand(imp);
}
