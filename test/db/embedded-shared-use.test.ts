import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { embeddedCluster, ensureEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { quietLog } from '../support/test-databases.js';
import { freePort } from '../support/throwaway-postgres.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

/** The embedded server is shared by whatever hopmap processes run at once: none may stop it under another. */
describe('embedded PostgreSQL shared by several users', { skip }, () => {
  let stateDir: string;
  let port: number;
  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'hopmap-shared-'));
    chmodSync(stateDir, 0o755); // the server runs as `postgres` when tests run as root
    port = await freePort();
  });
  after(async () => {
    await embeddedCluster(stateDir, port)
      .stop('immediate')
      .catch(() => {});
    await rm(stateDir, { recursive: true, force: true });
  });

  const ensure = () => ensureEmbeddedPostgres({ stateDir, port, log: quietLog });
  const running = () => embeddedCluster(stateDir, port).isRunning();
  const query = async (url: string) => {
    const c = new pg.Client(url);
    await c.connect();
    try {
      return (await c.query<{ one: number }>('select 1 as one')).rows[0]!.one;
    } finally {
      await c.end();
    }
  };

  it('the user that started the server leaves it running while another still uses it; the last one out stops it', async () => {
    const first = await ensure();
    assert.equal(first.startedHere, true);
    const second = await ensure();
    assert.equal(second.startedHere, false);
    assert.equal(await first.release(), false, 'another user is attached');
    assert.equal(await running(), true);
    assert.equal(await query(second.url), 1, 'the remaining user still works');
    assert.equal(await second.release(), true, 'the last user out stops a server hopmap started for itself');
    assert.equal(await running(), false);
  });

  it('a user that died without releasing does not keep the server up', async () => {
    const user = await ensure();
    assert.equal(user.startedHere, true);
    // A process that exited without releasing: its pid is gone.
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.on('exit', resolve));
    writeFileSync(join(stateDir, 'postgres.users', `${dead.pid}-deadbeef`), '');
    assert.equal(await user.release(), true);
    assert.equal(await running(), false);
  });

  it('a server asked for by a person (hopmap db url) outlives its users', async () => {
    const user = await ensure();
    await user.keep();
    assert.equal(await user.release(), false);
    assert.equal(await running(), true);
    const later = await ensure();
    assert.equal(later.startedHere, false);
    assert.equal(await later.release(), false, 'not started by a user for itself: only hopmap db stop stops it');
    assert.equal(await running(), true);
  });

  it('a second process attaching keeps the server up after the starting process is done', async () => {
    await embeddedCluster(stateDir, port).stop();
    const starter = await ensure();
    assert.equal(starter.startedHere, true);
    // Another process attaches and stays attached until told to go.
    const script = `
      import { ensureEmbeddedPostgres } from ${JSON.stringify(join(process.cwd(), 'src/db/embedded-postgres.ts'))};
      const log = { info() {}, child() { return log; } };
      const db = await ensureEmbeddedPostgres({ stateDir: ${JSON.stringify(stateDir)}, port: ${port}, log });
      process.stdout.write('attached\\n');
      process.stdin.once('data', async () => { process.stdout.write(String(await db.release()) + '\\n'); process.exit(0); });`;
    const other = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    other.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((resolve) => other.on('exit', resolve));
    let seen = 0;
    const nextLine = async () => {
      while (out.split('\n').length - 1 <= seen) {
        assert.equal(other.exitCode, null, `the other process exited early: ${out}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return out.split('\n')[seen++]!;
    };
    assert.equal(await nextLine(), 'attached');
    assert.equal(await starter.release(), false, 'the other process still uses it');
    assert.equal(await running(), true);
    other.stdin.write('go\n');
    assert.equal(await nextLine(), 'true', 'the other process, last out, stops it');
    await exited;
    assert.equal(await running(), false);
  });
});
