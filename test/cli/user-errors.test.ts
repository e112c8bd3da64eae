import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN_PATH, PROJECT_ROOT } from '../../src/version.js';
import { assertNoLeaks } from '../support/leaks.js';
import { needs } from '../support/needs.js';

const skip = needs('root');

/** nobody:nogroup on Debian: a user that may not enter a directory of mode 000. */
const NOBODY = { uid: 65534, gid: 65534 };

/** Runs `hopmap args…` with no database configured (so the embedded PostgreSQL is wanted), as `as` or root. */
function hopmap(args: string[], as: { uid?: number; gid?: number } = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: tmpdir() };
  for (const name of ['DATABASE_URL', 'DATABASE_DIRECT_URL', 'HOPMAP_DATABASE_URL', 'HOPMAP_STATE_DIR'])
    delete env[name];
  const child = spawn(process.execPath, [BIN_PATH, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], ...as });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr })),
  );
}

/** A user error is one line, `hopmap: …`, and no stack trace. */
function assertOneLine(stderr: string, want: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, no stack:\n${stderr}`);
  assert.match(lines[0]!, want);
  assert.doesNotMatch(stderr, /^\s+at /m);
}

describe('a user error ends a command with one line, no stack trace', { skip }, () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hopmap-user-errors-'));
  });

  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('hopmap up, as root, with a state dir the postgres user cannot enter: the message, exit 2', async () => {
    // mkdtemp makes the directory 0700, root's own: postgres, which the server must run as, cannot pass it.
    const { code, stderr } = await hopmap(['up', '--no-worker', '--state-dir', join(dir, 'state')]);
    assertOneLine(
      stderr,
      /^hopmap: the postgres system user cannot enter .*\/state\/postgres; .* or set DATABASE_URL$/,
    );
    assert.equal(code, 2);
  });

  it('hopmap migrate, as a user the state dir refuses: the path and the refusal, exit 1', async () => {
    // Another user than root, whom the file system's modes bind: a directory of mode 000 inside one they may enter.
    const open = join(dir, 'open');
    mkdirSync(open, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const locked = join(open, 'locked');
    mkdirSync(locked, { mode: 0o000 });
    const { code, stderr } = await hopmap(['migrate', '--state-dir', join(locked, 'state')], NOBODY);
    assertOneLine(
      stderr,
      /^hopmap: EACCES: permission denied, mkdir '.*\/locked\/state' \(check that path's owner and mode\)$/,
    );
    assert.equal(code, 1);
  });
});

describe('hopmap lab run --cut names links of the lab, or says which is not', () => {
  const internet = join(PROJECT_ROOT, 'lab', 'internet.yaml');
  it('two nodes that are not both in the lab: the item and the form, exit 2', async () => {
    const { code, stderr } = await hopmap(['lab', 'run', internet, '--cut', 'c2-c3,c2-c9']);
    assertOneLine(stderr, /^hopmap: --cut c2-c9: expected two nodes of lab internet joined by "-", e.g. c2-c3$/);
    assert.equal(code, 2);
  });

  it('two nodes with no link between them: exit 2, before anything is built', async () => {
    const { code, stderr } = await hopmap(['lab', 'run', internet, '--cut', 'c1-c3']);
    assertOneLine(stderr, /^hopmap: lab internet has no link c1 - c3$/);
    assert.equal(code, 2);
  });
});
