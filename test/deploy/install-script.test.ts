import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../src/version.js';
import { assertNoLeaks } from '../support/leaks.js';
import { needs } from '../support/needs.js';

const skip = needs('shellcheck');

const run = promisify(execFile);
const SCRIPT = join(PROJECT_ROOT, 'deploy/install.sh');
const scratch = mkdtempSync(join(tmpdir(), 'hopmap-install-'));

after(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await assertNoLeaks();
});

async function install(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('bash', [SCRIPT, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Asserts each pattern matches a line of `text`, in this order. */
function assertInOrder(text: string, patterns: RegExp[]): void {
  const lines = text.split('\n');
  let at = 0;
  for (const re of patterns) {
    const found = lines.findIndex((l, i) => i >= at && re.test(l));
    assert.ok(found >= 0, `no line matching ${re} after line ${at} in:\n${text}`);
    at = found + 1;
  }
}

describe('deploy/install.sh', { skip }, () => {
  it('parses (bash -n)', async () => {
    await run('bash', ['-n', SCRIPT]);
  });

  it('passes shellcheck', async () => {
    try {
      await run('shellcheck', ['--shell=bash', SCRIPT]);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stdout?: string };
      assert.fail(`shellcheck:\n${e.stdout}`);
    }
  });

  it('--dry-run prints every step for a prefix and changes nothing', async () => {
    const prefix = join(scratch, 'dry', 'opt', 'hopmap');
    const { code, stdout, stderr } = await install(
      '--dry-run',
      '--prefix',
      prefix,
      '--input',
      'http://127.0.0.1:8080',
      '--output',
      'http://127.0.0.1:8081',
    );
    assert.equal(code, 0, stderr);
    assertInOrder(stdout, [
      new RegExp(`^==> installing ${esc(PROJECT_ROOT)} to ${esc(prefix)}$`),
      new RegExp(`^\\+ env -C ${esc(prefix)}\\.new npm ci --omit=dev`),
      new RegExp(`^\\+ mv ${esc(prefix)}\\.new ${esc(prefix)}$`),
      /^(\+ useradd --system .* hopmap|==> system user hopmap exists)$/,
      /^\+ install -d -m 0750 -o root -g hopmap \/etc\/hopmap$/,
      new RegExp(
        `^==> installing /etc/systemd/system/hopmap-ping\\.service: ExecStart=/\\S+/node ${esc(prefix)}/bin/hopmap\\.js ping --config /etc/hopmap/ping\\.yaml$`,
      ),
      new RegExp(
        `^==> installing /etc/systemd/system/hopmap-ping@\\.service: ExecStart=/\\S+/node ${esc(prefix)}/bin/hopmap\\.js ping --config /etc/hopmap/ping-%i\\.yaml$`,
      ),
      /^\+ systemctl daemon-reload$/,
      /^\+ systemctl enable --now hopmap-ping\.service$/,
    ]);
    assert.ok(!existsSync(join(scratch, 'dry')), 'a dry run created the prefix');
  });

  it('--dry-run writes the given input and output into a new config, quoted for YAML', async (t) => {
    if (existsSync('/etc/hopmap/ping.yaml'))
      return t.skip('this machine has /etc/hopmap/ping.yaml, which install.sh keeps');
    const { code, stdout } = await install(
      '--dry-run',
      '--prefix',
      join(scratch, 'cfg'),
      '--input',
      'http://127.0.0.1:8080',
      '--output',
      "http://127.0.0.1:8081/r?a=1&b='x'",
    );
    assert.equal(code, 0);
    assert.match(stdout, /^ {4}\| input_file: 'http:\/\/127\.0\.0\.1:8080'$/m);
    assert.match(stdout, /^ {4}\| output_file: 'http:\/\/127\.0\.0\.1:8081\/r\?a=1&b=''x'''$/m);
  });

  it('does not start a worker whose config is still the example, nor with --no-start', async (t) => {
    if (existsSync('/etc/hopmap/ping.yaml'))
      return t.skip('this machine has /etc/hopmap/ping.yaml, which install.sh keeps');
    const example = await install('--dry-run', '--prefix', join(scratch, 'ex'));
    assert.equal(example.code, 0);
    assert.doesNotMatch(example.stdout, /^\+ systemctl enable/m);
    assert.match(example.stdout, /not starting: edit \/etc\/hopmap\/ping\.yaml/);
    const noStart = await install(
      '--dry-run',
      '--no-start',
      '--prefix',
      join(scratch, 'ns'),
      '--input',
      'http://127.0.0.1:8080',
      '--output',
      'http://127.0.0.1:8081',
    );
    assert.equal(noStart.code, 0);
    assert.doesNotMatch(noStart.stdout, /^\+ systemctl enable/m);
    assert.match(noStart.stdout, /^\+ systemctl daemon-reload$/m);
  });

  it("--dry-run installs the services' units and env file, and starts the services named with --services", async (t) => {
    if (existsSync('/etc/hopmap/hopmap.env'))
      return t.skip('this machine has /etc/hopmap/hopmap.env, which install.sh keeps');
    const prefix = join(scratch, 'svc');
    const { code, stdout, stderr } = await install(
      '--dry-run',
      '--prefix',
      prefix,
      '--services',
      'input,output@2,manager',
      '--database-url',
      'postgres://hopmap:s3cret@db.lan:6432/hopmap',
    );
    assert.equal(code, 0, stderr);
    assertInOrder(stdout, [
      /^==> writing \/etc\/hopmap\/hopmap\.env from systemd\/hopmap\.env\.example$/,
      // The password never reaches the terminal.
      /^ {4}\| DATABASE_URL=postgres:\/\/hopmap:\*\*\*@db\.lan:6432\/hopmap$/,
      /^\+ install -m 0640 -o root -g hopmap \S+ \/etc\/hopmap\/hopmap\.env$/,
      ...['input', 'output', 'manager'].flatMap((service) => [
        new RegExp(
          `^==> installing /etc/systemd/system/hopmap-${service}\\.service: ExecStart=/\\S+/node ${esc(prefix)}/bin/hopmap\\.js ${service}$`,
        ),
        new RegExp(
          `^==> installing /etc/systemd/system/hopmap-${service}@\\.service: ExecStart=/\\S+/node ${esc(prefix)}/bin/hopmap\\.js ${service}$`,
        ),
      ]),
      /^==> installing \/etc\/systemd\/system\/hopmap\.target$/,
      /^\+ systemctl daemon-reload$/,
      /^\+ systemctl enable hopmap\.target$/,
      /^==> note: hopmap-output@2 needs \/etc\/hopmap\/output-2\.env with its own HOPMAP_PORT/,
      /^\+ systemctl enable --now hopmap-input\.service hopmap-output@2\.service hopmap-manager\.service$/,
    ]);
    assert.doesNotMatch(stdout, /s3cret/);
    // Without a database URL the env file is the example's, and no service is started on it.
    const example = await install('--dry-run', '--prefix', join(scratch, 'svc-ex'), '--services', 'input');
    assert.equal(example.code, 0, example.stderr);
    assert.doesNotMatch(example.stdout, /^\+ systemctl enable --now hopmap-input/m);
    assert.match(example.stdout, /not starting the services: set DATABASE_URL in \/etc\/hopmap\/hopmap\.env/);
  });

  it('refuses to replace a directory that is not a hopmap install', async () => {
    const other = join(scratch, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'keep-me'), '');
    const { code, stderr } = await install('--dry-run', '--prefix', other);
    assert.equal(code, 1);
    assert.match(stderr, /exists and is not a hopmap install/);
  });

  const refused: Array<[string, string[], number, RegExp]> = [
    ['a relative prefix', ['--prefix', 'opt/hopmap'], 1, /--prefix must be an absolute path/],
    ['a prefix with a space', ['--prefix', '/opt/hop map'], 1, /--prefix must be an absolute path/],
    ['the checkout itself as prefix', ['--prefix', PROJECT_ROOT], 1, /not from the installed copy/],
    ['an unknown option', ['--frobnicate'], 2, /unknown option --frobnicate/],
    ['an unknown service', ['--services', 'input,frobnicator'], 1, /--services takes input, output, manager/],
    [
      'a database URL that is not PostgreSQL',
      ['--database-url', 'mysql://db/hopmap'],
      1,
      /--database-url must be a postgres:\/\/ URL/,
    ],
  ];
  for (const [what, args, status, message] of refused) {
    it(`refuses ${what}`, async () => {
      const { code, stderr } = await install('--dry-run', ...args);
      assert.equal(code, status);
      assert.match(stderr, message);
    });
  }
});
