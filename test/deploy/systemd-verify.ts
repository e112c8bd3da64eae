import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../src/version.js';

const run = promisify(execFile);

export const UNIT_DIR = join(PROJECT_ROOT, 'systemd');
export const unitFiles = (): string[] =>
  readdirSync(UNIT_DIR)
    .filter((f) => f.endsWith('.service'))
    .sort();
export const readUnit = (file: string): string => readFileSync(join(UNIT_DIR, file), 'utf8');

/** The name systemd loads a unit file as: a template is verified through an instance of it. */
export const instanceName = (file: string): string => file.replace('@.', '@edge1.');

/**
 * A fake filesystem root for `systemd-analyze --root`: the host's targets and slices (so a unit's
 * dependencies resolve as on Debian), and an executable /usr/bin/node unless `node` is false. This needs
 * neither systemd as PID 1 nor a real /opt/hopmap, and the check that ExecStart's binary exists does not
 * depend on where this machine's node lives.
 */
export function makeFakeRoot({ node = true } = {}): { root: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), 'hopmap-systemd-root-'));
  const hostUnits = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) =>
    existsSync(join(d, 'sysinit.target')),
  );
  if (!hostUnits) throw new Error("no systemd units on this machine: apt-get install systemd (Debian's package)");
  const units = join(root, 'usr/lib/systemd/system');
  mkdirSync(units, { recursive: true });
  for (const f of readdirSync(hostUnits)) {
    if (/\.(target|slice)$/.test(f)) copyFileSync(join(hostUnits, f), join(units, f));
  }
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  if (node) {
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    writeFileSync(join(root, 'usr/bin/node'), '#!/bin/sh\n');
    chmodSync(join(root, 'usr/bin/node'), 0o755);
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

async function analyze(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('systemd-analyze', args, {
      env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' },
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error("systemd-analyze not found: apt-get install systemd (Debian's package)");
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/**
 * `systemd-analyze verify` of one unit file's text under a fake root. It exits 0 on many mistakes
 * (an unknown key, a bad value: systemd logs them and ignores the line, as it would at boot), so a unit
 * passes only when the exit status is 0 and systemd said nothing at all.
 */
export async function verifyUnit(root: string, file: string, text: string): Promise<{ ok: boolean; output: string }> {
  writeFileSync(join(root, 'etc/systemd/system', file), text);
  const { code, output } = await analyze([
    'verify',
    '--man=no',
    '--generators=no',
    `--root=${root}`,
    instanceName(file),
  ]);
  return { ok: code === 0 && output.trim() === '', output: `exit ${code}\n${output}` };
}

/** systemd's own rating of a unit's sandbox: its exposure (0 safe … 10 unsafe) and label (OK, MEDIUM, …). */
export async function securityRating(
  root: string,
  file: string,
): Promise<{ exposure: number; label: string; output: string }> {
  writeFileSync(join(root, 'etc/systemd/system', file), readUnit(file));
  const { output } = await analyze(['security', '--offline=true', `--root=${root}`, '--no-pager', instanceName(file)]);
  const m = /Overall exposure level for \S+: ([\d.]+) (\w+)/.exec(output);
  if (!m) throw new Error(`no exposure level in systemd-analyze security output:\n${output}`);
  return { exposure: Number(m[1]), label: m[2]!, output };
}

/** Directive → values, from every section, comments dropped; a repeated directive keeps each value. */
export function parseUnit(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

const SPAN_MS: Record<string, number> = {
  ms: 1,
  msec: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
};

/** A systemd time span (`45`, `45s`, `1min 30s`) in milliseconds; a bare number is seconds. */
export function timeSpanMs(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]*)/g)];
  if (
    !parts.length ||
    parts
      .map((p) => p[0])
      .join('')
      .replace(/\s/g, '') !== text.replace(/\s/g, '')
  )
    throw new Error(`not a time span: ${text}`);
  return parts.reduce((sum, [, n, unit]) => {
    const ms = SPAN_MS[unit || 's'];
    if (ms === undefined) throw new Error(`unknown time unit in ${text}`);
    return sum + Number(n) * ms;
  }, 0);
}
