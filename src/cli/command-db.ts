import { Command } from 'commander';
import { z } from 'zod';
import { addDatabaseOptions, databaseConfigShape, loadCommandConfig } from '../config/common-config.js';
import { resolveDatabase } from '../db/resolve-database.js';
import { embeddedCluster } from '../db/embedded-postgres.js';
import { createLogger } from '../log/create-logger.js';
import { runCommand } from './run-command.js';

export function dbCommand(): Command {
  const db = new Command('db').description('the database hopmap uses');

  const url = addDatabaseOptions(new Command('url')).description(
    'print the connection string in use, starting the embedded PostgreSQL if needed',
  );
  url.action(
    runCommand(async () => {
      const cfg = loadCommandConfig(url, z.object(databaseConfigShape));
      const log = createLogger({
        level: cfg.verbose ? 'debug' : cfg.logLevel === 'info' ? 'warn' : cfg.logLevel,
        name: 'db',
      });
      const resolved = await resolveDatabase(cfg, log);
      process.stdout.write(`${resolved.url}\n`);
      if (resolved.embedded) {
        const { cluster, startedHere } = resolved.embedded;
        // Started at a person's request, so it outlives this command and every other user until 'hopmap db
        // stop'; one that `up` or a test run started stays theirs to stop.
        if (startedHere) await resolved.embedded.keep();
        process.stderr.write(
          `embedded PostgreSQL ${startedHere ? 'started' : 'running'}: data in ${cluster.dataDir}, socket in ${cluster.socketDir}; stop it with 'hopmap db stop'\n`,
        );
      }
    }),
  );

  const stop = addDatabaseOptions(new Command('stop')).description('stop the embedded PostgreSQL (its data stays)');
  stop.action(
    runCommand(async () => {
      const cfg = loadCommandConfig(stop, z.object(databaseConfigShape));
      const cluster = embeddedCluster(cfg.stateDir, cfg.embeddedPort);
      if (!(await cluster.isRunning())) {
        process.stdout.write(`embedded PostgreSQL in ${cluster.dataDir} is not running\n`);
        return;
      }
      await cluster.stop();
      process.stdout.write(`embedded PostgreSQL in ${cluster.dataDir} stopped\n`);
    }),
  );

  return db.addCommand(url).addCommand(stop);
}
