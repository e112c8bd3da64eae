import type { Command } from 'commander';
import type { z } from 'zod';
import { loadCommandConfig, type serviceConfigShape } from '../config/common-config.js';
import { migrateDatabase } from '../db/migrate.js';
import { resolveDatabase } from '../db/resolve-database.js';
import { createLogger } from '../log/create-logger.js';
import { Lifecycle } from '../process/lifecycle.js';
import { startService, type ServiceModule } from '../service/start-service.js';

type ServiceConfig = z.infer<z.ZodObject<typeof serviceConfigShape>> & { port: number };

/**
 * What every `hopmap <service>` command does: parse its configuration once, find the database, migrate
 * unless told not to, start the service, and stop it gracefully on SIGTERM or Ctrl-C.
 */
export async function runServiceCommand<S extends z.ZodObject>(
  cmd: Command,
  schema: S,
  makeModule: (cfg: z.infer<S>) => ServiceModule,
): Promise<void> {
  const cfg = loadCommandConfig(cmd, schema) as z.infer<S> & ServiceConfig;
  const module = makeModule(cfg);
  const log = createLogger({ level: cfg.verbose ? 'debug' : cfg.logLevel, name: module.type });
  const lifecycle = new Lifecycle(log);
  lifecycle.handleSignals();
  const db = await resolveDatabase(cfg, log);
  if (db.embedded) lifecycle.onShutdown('embedded PostgreSQL', async () => void (await db.embedded!.release()));
  if (cfg.migrate) await migrateDatabase(db.directUrl, log);
  await startService(module, {
    ...serviceStartOptions(cfg, db.url, db.directUrl),
    healthPort: (cfg as { healthPort?: number }).healthPort,
    log,
    lifecycle,
  });
}

/** The start options every service command takes from its configuration. */
export function serviceStartOptions(cfg: ServiceConfig, databaseUrl: string, databaseDirectUrl?: string) {
  const { host, port, name, bodyLimit, shutdownGraceMs, drainDelayMs, jobConcurrency } = cfg;
  return { databaseUrl, databaseDirectUrl, host, port, name, bodyLimit, shutdownGraceMs, drainDelayMs, jobConcurrency };
}
