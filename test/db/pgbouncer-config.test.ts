import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { z } from 'zod';
import { addDatabaseOptions, databaseConfigShape, loadCommandConfig } from '../../src/config/common-config.js';
import { freePort } from '../../src/http/free-port.js';
import { resolveDatabase } from '../../src/db/resolve-database.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { assertNoLeaks } from '../support/leaks.js';
import { PGBOUNCER } from '../support/pgbouncer.js';
import { spawnNode } from '../support/spawn-process.js';
import { quietLog } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'pgbouncer');

const schema = z.object(databaseConfigShape);

function parse(argv: string[], env: Record<string, string>) {
  const cmd = addDatabaseOptions(new Command('x')).exitOverride();
  cmd.parse(argv, { from: 'user' });
  const saved = { ...process.env };
  for (const k of ['DATABASE_URL', 'DATABASE_DIRECT_URL', 'HOPMAP_DATABASE_URL', 'HOPMAP_DATABASE_DIRECT_URL'])
    delete process.env[k];
  Object.assign(process.env, env);
  try {
    return loadCommandConfig(cmd, schema);
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

describe('PgBouncer configuration', { skip }, () => {
  it('reads the direct URL from --database-direct-url, HOPMAP_DATABASE_DIRECT_URL or DATABASE_DIRECT_URL; unset, it is DATABASE_URL', async () => {
    const pooled = 'postgres://h@bouncer:6432/hopmap';
    const direct = 'postgres://h@db:5432/hopmap';
    assert.equal(parse(['--database-direct-url', direct], {}).databaseDirectUrl, direct);
    assert.equal(parse([], { HOPMAP_DATABASE_DIRECT_URL: direct }).databaseDirectUrl, direct);
    assert.equal(parse([], { DATABASE_DIRECT_URL: direct }).databaseDirectUrl, direct);
    assert.throws(
      () => parse([], { DATABASE_DIRECT_URL: 'mysql://db/x' }),
      /environment DATABASE_DIRECT_URL: expected a postgres/,
    );

    const cfg = { stateDir: '/nonexistent', embeddedPort: 1 };
    assert.deepEqual(await resolveDatabase({ ...cfg, databaseUrl: pooled, databaseDirectUrl: direct }, quietLog), {
      url: pooled,
      directUrl: direct,
    });
    assert.deepEqual(await resolveDatabase({ ...cfg, databaseUrl: pooled }, quietLog), {
      url: pooled,
      directUrl: pooled,
    });
    assert.deepEqual(await resolveDatabase({ ...cfg, databaseDirectUrl: direct }, quietLog), {
      url: direct,
      directUrl: direct,
    });
  });

  it("deploy/pgbouncer/pgbouncer.ini is accepted by Debian's pgbouncer without a warning", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hopmap-pgbouncer-ini-'));
    chmodSync(dir, 0o755);
    try {
      const port = await freePort();
      // Only what must differ on a test machine: the port, the socket directory and the auth file's place.
      const ini = readFileSync(join(PROJECT_ROOT, 'deploy/pgbouncer/pgbouncer.ini'), 'utf8')
        .replace(/^listen_addr = .*$/m, 'listen_addr = 127.0.0.1')
        .replace(/^listen_port = .*$/m, `listen_port = ${port}`)
        .replace(/^unix_socket_dir = .*$/m, 'unix_socket_dir =')
        .replace(/^auth_file = .*$/m, `auth_file = ${join(dir, 'userlist.txt')}`);
      assert.match(ini, /^pool_mode = transaction$/m);
      writeFileSync(join(dir, 'pgbouncer.ini'), ini, { mode: 0o644 });
      writeFileSync(join(dir, 'userlist.txt'), '"hopmap" "secret"\n', { mode: 0o644 });
      const proc = spawnNode([], {}, [
        PGBOUNCER,
        ...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []),
        join(dir, 'pgbouncer.ini'),
      ]);
      try {
        await proc.waitFor(/process up: PgBouncer/, 15_000);
      } finally {
        proc.child.kill('SIGTERM');
        await proc.exited;
      }
      assert.doesNotMatch(proc.output(), /\b(WARNING|ERROR|FATAL)\b/, proc.output());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await assertNoLeaks();
  });
});
