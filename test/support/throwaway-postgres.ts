import { chmodSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '../../src/db/local-cluster.js';
import { freePort } from '../../src/http/free-port.js';
import { assertDeclared } from './needs.js';

export { freePort, portIsFree } from '../../src/http/free-port.js';

/**
 * A PostgreSQL server of the test's own, for tests that stop and restart the database: the shared test
 * server is never touched. Remove it with `destroy()`.
 */
export async function startThrowawayPostgres(): Promise<{
  cluster: LocalCluster;
  url: string;
  destroy(): Promise<void>;
}> {
  assertDeclared('database', 'startThrowawayPostgres');
  const root = mkdtempSync(join(tmpdir(), 'hopmap-pg-'));
  chmodSync(root, 0o755); // the server runs as `postgres` when tests run as root
  const baseDir = join(root, 'postgres');
  const cluster = new LocalCluster({ baseDir, port: await freePort() });
  await cluster.init();
  await cluster.start();
  return {
    cluster,
    url: cluster.url(),
    async destroy() {
      await cluster.stop('immediate').catch(() => {});
      await rm(join(baseDir, '..'), { recursive: true, force: true });
    },
  };
}
