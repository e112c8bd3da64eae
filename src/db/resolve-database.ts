import type { Logger } from '../log/create-logger.js';
import { ensureEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.js';

export interface ResolvedDatabase {
  /** Where everything that works per transaction connects; may be PgBouncer in transaction mode. */
  url: string;
  /** The PostgreSQL server itself, for what needs a session: migrations, graphile-worker, pg_dump, `merge`. */
  directUrl: string;
  /** Set when DATABASE_URL was unset and the embedded PostgreSQL is in use. */
  embedded?: EmbeddedDatabase;
}

/**
 * DATABASE_URL when given (no other database is started), with DATABASE_DIRECT_URL beside it (the same when
 * unset; alone, it serves for both); otherwise the embedded PostgreSQL.
 */
export async function resolveDatabase(
  cfg: {
    databaseUrl?: string | undefined;
    databaseDirectUrl?: string | undefined;
    stateDir: string;
    embeddedPort: number;
  },
  log: Logger,
): Promise<ResolvedDatabase> {
  const url = cfg.databaseUrl ?? cfg.databaseDirectUrl;
  if (url) return { url, directUrl: cfg.databaseDirectUrl ?? url };
  const embedded = await ensureEmbeddedPostgres({
    stateDir: cfg.stateDir,
    port: cfg.embeddedPort,
    log: log.child({ module: 'embedded-postgres' }),
  });
  return { url: embedded.url, directUrl: embedded.url, embedded };
}
