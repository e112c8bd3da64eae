import { rm } from 'node:fs/promises';
import { chmodSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '../../src/db/local-cluster.js';

/** A free TCP port on loopback, as the kernel hands one out. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A PostgreSQL server of the test's own, for tests that stop and restart the database: the shared test
 * server is never touched. Remove it with `destroy()`.
 */
export async function startThrowawayPostgres(): Promise<{ cluster: LocalCluster; url: string; destroy(): Promise<void> }> {
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
