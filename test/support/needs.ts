/**
 * What a test file needs of the machine, declared on one line after its imports:
 *
 *   const skip = needs('root', 'ip', 'database');
 *   describe('…', { skip }, () => { … });
 *
 * `skip` is false when the machine has everything, else the reason ("needs root; needs chromium (…)"), so the
 * file's tests are skipped and reported with it. test/run-tests.ts reads the same line (statically, see
 * `declaredNeeds`) to put the file in its lane: no needs → unit, only 'database' → db, anything else → lab.
 * The helpers that use a need (createTestDatabase, launchBrowser, startNginx, startPgbouncer …) call
 * `assertDeclared`, so a file that uses one without declaring it fails instead of landing in the wrong lane.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Debian tools a test may run, with the package that brings each. */
const TOOLS = {
  ip: 'iproute2',
  ping: 'iputils-ping',
  fping: 'fping',
  scamper: 'scamper',
  nginx: 'nginx',
  pgbouncer: 'pgbouncer',
  pebble: 'pebble',
  openssl: 'openssl',
  'fail2ban-regex': 'fail2ban',
  'systemd-analyze': 'systemd',
  shellcheck: 'shellcheck',
  'docker-compose': 'docker-compose',
  promtool: 'prometheus',
  pg_dump: 'postgresql-client',
  pg_restore: 'postgresql-client',
  psql: 'postgresql-client',
} as const;

export type Tool = keyof typeof TOOLS;
/** root: uid 0 (network namespaces, raw sockets, tmpfs mounts, switching users); database: the suite's PostgreSQL. */
export type Need = 'root' | 'database' | 'chromium' | Tool;
export const NEEDS: readonly Need[] = ['root', 'database', 'chromium', ...(Object.keys(TOOLS) as Tool[])];
/** Needs that put a file in the lab lane (all but the database). */
export const LAB_NEEDS: readonly Need[] = NEEDS.filter((n) => n !== 'database');

export const CHROMIUM = process.env.HOPMAP_CHROMIUM ?? '/usr/bin/chromium';

/** Debian installs some tools under sbin, which a non-root PATH often lacks. */
export function findTool(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...path.split(delimiter).filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin']) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Needs to treat as missing although the machine has them: HOPMAP_TEST_PRETEND_MISSING=root,chromium (to try the skips). */
function pretendMissing(): Set<string> {
  return new Set(
    (process.env.HOPMAP_TEST_PRETEND_MISSING ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

/** Why `need` is missing on this machine, or undefined when it is there. */
export function missing(need: Need): string | undefined {
  const why = (hint: string) => `needs ${need}${hint ? ` (${hint})` : ''}`;
  if (pretendMissing().has(need)) return why('HOPMAP_TEST_PRETEND_MISSING');
  switch (need) {
    case 'root':
      return process.getuid?.() === 0 ? undefined : why('');
    case 'database':
      // The runner sets this when it could not start or reach a server (no DATABASE_URL, no embedded binaries).
      return process.env.HOPMAP_TEST_NO_DATABASE
        ? `needs PostgreSQL (${process.env.HOPMAP_TEST_NO_DATABASE})`
        : undefined;
    case 'chromium':
      return existsSync(CHROMIUM) ? undefined : why('apt-get install chromium, or HOPMAP_CHROMIUM=path');
    default:
      return findTool(need) ? undefined : why(`apt-get install ${TOOLS[need]}`);
  }
}

const declared = new Set<Need>();

/** Declares what this test file needs; returns the reason to skip its tests, or false. */
export function needs(...list: Need[]): string | false {
  for (const n of list) {
    if (!NEEDS.includes(n)) throw new Error(`needs('${n}'): unknown need; known: ${NEEDS.join(', ')}`);
    declared.add(n);
  }
  const reasons = list.map(missing).filter((r): r is string => r !== undefined);
  return reasons.length ? reasons.join('; ') : false;
}

/** Called by a helper that uses `need`: a file must declare it (with `needs`) to be run in the right lane and skipped rightly. */
export function assertDeclared(need: Need, helper: string): void {
  if (!declared.has(need))
    throw new Error(
      `${helper} needs '${need}': declare it at the top of the test file, const skip = needs('${need}', …)`,
    );
}

/** The needs a test file declares, read from its source as test/run-tests.ts does; undefined when it declares none. */
export function declaredNeeds(source: string): Need[] | undefined {
  const line = /^const skip = needs\(([^)]*)\);$/m.exec(source);
  if (!line) return undefined;
  return [...line[1]!.matchAll(/'([^']+)'/g)].map((m) => m[1] as Need);
}

export type Lane = 'unit' | 'db' | 'lab';
export const LANES: readonly Lane[] = ['unit', 'db', 'lab'];

/** unit: no needs; db: the database only; lab: root, a browser or a Debian tool. */
export function laneOf(source: string): Lane {
  const list = declaredNeeds(source) ?? [];
  if (list.some((n) => n !== 'database')) return 'lab';
  return list.includes('database') ? 'db' : 'unit';
}

/** A file that imports a helper of a need without declaring it: the reason, or undefined when it is consistent. */
export function undeclaredUse(source: string): string | undefined {
  const list = declaredNeeds(source) ?? [];
  const imports = (names: string) => new RegExp(`^import (type )?\\{[^}]*\\b(${names})\\b[^}]*\\} from`, 'm');
  const uses: [string, Need][] = [
    ['createTestDatabase|startThrowawayPostgres|prepareTestServer', 'database'],
    ['launchBrowser', 'chromium'],
    ['buildLab|startDrill|createLoopbackNamespace', 'root'],
    ['startNginx', 'nginx'],
    ['startPgBouncer', 'pgbouncer'],
  ];
  for (const [names, need] of uses) {
    const used = imports(names).exec(source);
    if (used && !used[1] && !list.includes(need)) return `imports ${used[2]} but does not declare needs('${need}')`;
  }
  return undefined;
}

/** "skipped 37: needs root (30), needs chromium (7)", most frequent reason first; '' when nothing was skipped. */
export function skipSummary(reasons: readonly string[]): string {
  if (!reasons.length) return '';
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return `skipped ${reasons.length}: ${sorted.map(([r, n]) => `${r} (${n})`).join(', ')}`;
}
