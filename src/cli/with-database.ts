import type { Command } from 'commander';
import { z } from 'zod';
import { databaseConfigShape, loadCommandConfig } from '../config/common-config.js';
import { createPool, type Pool } from '../db/create-pool.js';
import { migrateDatabase } from '../db/migrate.js';
import { resolveDatabase } from '../db/resolve-database.js';
import { createLogger } from '../log/create-logger.js';

/**
 * For the one-shot commands (keys, enrich): opens the configured (or embedded) database, migrated first,
 * runs `fn`, and closes everything. Routine logging is quiet unless asked for: the command's own output is
 * what the user reads.
 */
export async function withDatabase(cmd: Command, name: string, fn: (pool: Pool) => Promise<void>): Promise<void> {
  const cfg = loadCommandConfig(cmd, z.object(databaseConfigShape));
  const log = createLogger({ level: cfg.verbose ? 'debug' : cfg.logLevel === 'info' ? 'warn' : cfg.logLevel, name });
  const db = await resolveDatabase(cfg, log);
  const pool = createPool(db.url, log, { max: 2 });
  try {
    await migrateDatabase(db.directUrl, log);
    await fn(pool);
  } finally {
    await pool.end();
    await db.embedded?.release();
  }
}
