import pg from 'pg';
import { findPgTool, serverMajor } from '../../src/db/pg-tools.js';
import { prepareTestServer } from './test-databases.js';

/** The machine's own PostgreSQL (Debian's, with its pg_dump), for when the suite's server is newer than any pg_dump here. */
export const MACHINE_POSTGRES = process.env.HOPMAP_TEST_MACHINE_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * pg_dump refuses a newer server: undefined when a pg_dump for the suite's server is installed (use it),
 * else the machine's PostgreSQL to dump from instead.
 */
export async function serverWithPgDump(): Promise<string | undefined> {
  const client = new pg.Client((await prepareTestServer()).adminUrl);
  await client.connect();
  try {
    await findPgTool('pg_dump', { minMajor: await serverMajor(client) });
    return undefined;
  } catch {
    return MACHINE_POSTGRES;
  } finally {
    await client.end();
  }
}
