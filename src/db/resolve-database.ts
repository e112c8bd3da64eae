import type { Logger } from '../log/create-logger.js';
import { ensureEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.js';

export interface ResolvedDatabase {
  url: string;
  /** Set when DATABASE_URL was unset and the embedded PostgreSQL is in use. */
  embedded?: EmbeddedDatabase;
}

/** DATABASE_URL when given (no other database is started); otherwise the embedded PostgreSQL. */
export async function resolveDatabase(cfg: { databaseUrl?: string | undefined; stateDir: string; embeddedPort: number }, log: Logger): Promise<ResolvedDatabase> {
  if (cfg.databaseUrl) return { url: cfg.databaseUrl };
  const embedded = await ensureEmbeddedPostgres({ stateDir: cfg.stateDir, port: cfg.embeddedPort, log: log.child({ module: 'embedded-postgres' }) });
  return { url: embedded.url, embedded };
}
