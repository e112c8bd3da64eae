/**
 * `npm test`: prepares the database server once (DATABASE_URL, else the embedded PostgreSQL) with a migrated
 * template, then runs every test file with node's test runner, each file in its own process and database.
 * Arguments, if any, are test files to run instead of all of them.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../src/version.js';
import { dropLeftoverTestDatabases, prepareTestServer } from './support/test-databases.js';

const testDir = join(PROJECT_ROOT, 'test');
const LOCAL_DURATIONS = join(PROJECT_ROOT, '.hopmap', 'test-durations.json');
const wholeSuite = process.argv.length <= 2;
const files = wholeSuite
  ? longestFirst(readdirSync(testDir, { recursive: true }).map(String).filter((f) => f.endsWith('.test.ts')).sort().map((f) => relative(PROJECT_ROOT, join(testDir, f))))
  : process.argv.slice(2);

/**
 * Two files run at once, so a long file that starts last runs alone at the end: start the longest first,
 * by the durations of this checkout's last whole run, else those recorded in test/file-durations.json.
 */
function longestFirst(all: string[]): string[] {
  const read = (path: string): Record<string, number> => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>) : {});
  const seconds = { ...read(join(testDir, 'file-durations.json')), ...read(LOCAL_DURATIONS) };
  // A file never timed yet is most likely small.
  return [...all].sort((a, b) => (seconds[b] ?? 10) - (seconds[a] ?? 10));
}

const setup = await prepareTestServer();
const dropped = await dropLeftoverTestDatabases(setup.adminUrl, setup.template);
process.stdout.write(`test database server: ${new URL(setup.adminUrl).host}${setup.startedEmbedded ? ' (embedded, started for this run)' : ''}; template ${setup.template}${dropped.length ? `; dropped ${dropped.length} leftover test databases` : ''}\n`);

const child = spawn(
  process.execPath,
  [
    '--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000',
    '--test-reporter=tap', '--test-reporter-destination=stdout',
    '--test-reporter=./test/support/file-durations-reporter.mjs', '--test-reporter-destination=stdout',
    ...files,
  ],
  {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
    env: {
      ...process.env,
      HOPMAP_TEST_ADMIN_URL: setup.adminUrl,
      HOPMAP_TEST_TEMPLATE: setup.template,
      HOPMAP_TEST_RUNNER_PID: String(process.pid),
      ...(wholeSuite ? { HOPMAP_TEST_DURATIONS_OUT: LOCAL_DURATIONS } : {}),
    },
  },
);
const stop = (signal: NodeJS.Signals) => child.kill(signal);
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
const code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
await setup.stopEmbedded();
process.exit(code);
