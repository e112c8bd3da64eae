/**
 * `npm test`: prepares the database server once (DATABASE_URL, else the embedded PostgreSQL) with a migrated
 * template, then runs every test file with node's test runner, each file in its own process and database.
 * Arguments, if any, are test files to run instead of all of them.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from '../src/version.js';
import { dropLeftoverTestDatabases, prepareTestServer } from './support/test-databases.js';

const testDir = join(PROJECT_ROOT, 'test');
const LOCAL_DURATIONS = join(PROJECT_ROOT, '.hopmap', 'test-durations.json');
const LANES = 2;
const wholeSuite = process.argv.length <= 2;
const files = wholeSuite
  ? readdirSync(testDir, { recursive: true }).map(String).filter((f) => f.endsWith('.test.ts')).sort().map((f) => relative(PROJECT_ROOT, join(testDir, f)))
  : process.argv.slice(2);

/**
 * Two files run at once. node's runner sorts the files it is given, so with one runner a long file may start
 * last and run alone at the end; instead each lane is a runner of its own, one file at a time, and the files
 * are dealt longest first to the lane with the least work (by the durations of this checkout's last whole
 * run, else those in test/file-durations.json), so the lanes end together.
 */
function dealToLanes(all: string[]): string[][] {
  const read = (path: string): Record<string, number> => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>) : {});
  const seconds = { ...read(join(testDir, 'file-durations.json')), ...read(LOCAL_DURATIONS) };
  // A file never timed yet is most likely small.
  const cost = (f: string) => seconds[f] ?? 10;
  const lanes = Array.from({ length: LANES }, () => ({ files: [] as string[], seconds: 0 }));
  for (const f of [...all].sort((a, b) => cost(b) - cost(a))) {
    const lane = lanes.reduce((min, l) => (l.seconds < min.seconds ? l : min));
    lane.files.push(f);
    lane.seconds += cost(f);
  }
  return lanes.map((l) => l.files).filter((l) => l.length > 0);
}

const setup = await prepareTestServer();
const dropped = await dropLeftoverTestDatabases(setup.adminUrl, setup.template);
process.stdout.write(`test database server: ${new URL(setup.adminUrl).host}${setup.startedEmbedded ? ' (embedded, started for this run)' : ''}; template ${setup.template}${dropped.length ? `; dropped ${dropped.length} leftover test databases` : ''}\n`);

const env = { ...process.env, HOPMAP_TEST_ADMIN_URL: setup.adminUrl, HOPMAP_TEST_TEMPLATE: setup.template, HOPMAP_TEST_RUNNER_PID: String(process.pid) };
const runner = (laneFiles: string[], concurrency: number, durationsOut?: string) =>
  spawn(
    process.execPath,
    [
      '--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=600000',
      '--test-reporter=tap', '--test-reporter-destination=stdout',
      '--test-reporter=./test/support/file-durations-reporter.mjs', '--test-reporter-destination=stdout',
      ...laneFiles,
    ],
    { cwd: PROJECT_ROOT, stdio: ['ignore', durationsOut ? 'pipe' : 'inherit', 'inherit'], env: { ...env, ...(durationsOut ? { HOPMAP_TEST_DURATIONS_OUT: durationsOut } : {}) } },
  );

const lanes = wholeSuite ? dealToLanes(files) : [files];
const laneOut = (i: number) => join(PROJECT_ROOT, '.hopmap', `test-durations.lane-${i + 1}.json`);
const children = lanes.map((laneFiles, i) => {
  if (!wholeSuite) return runner(laneFiles, LANES);
  process.stdout.write(`lane ${i + 1}: ${laneFiles.length} files\n`);
  const child = runner(laneFiles, 1, laneOut(i));
  // Each line carries its lane: two TAP streams share the log.
  createInterface({ input: child.stdout! }).on('line', (line) => process.stdout.write(`[${i + 1}] ${line}\n`));
  return child;
});
const stop = (signal: NodeJS.Signals) => children.forEach((c) => c.kill(signal));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
const codes = await Promise.all(children.map((c) => new Promise<number>((resolve) => c.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))))));
if (wholeSuite) {
  const merged: Record<string, number> = {};
  for (let i = 0; i < lanes.length; i++) if (existsSync(laneOut(i))) Object.assign(merged, JSON.parse(readFileSync(laneOut(i), 'utf8')) as Record<string, number>);
  if (Object.keys(merged).length) writeFileSync(LOCAL_DURATIONS, `${JSON.stringify(Object.fromEntries(Object.entries(merged).sort((a, b) => b[1] - a[1])), null, 2)}\n`);
  process.stdout.write(`lanes exited ${codes.join(', ')}: ${codes.every((c) => c === 0) ? 'all passed' : 'FAILED, see "not ok" above'}\n`);
}
await setup.stopEmbedded();
process.exit(codes.find((c) => c !== 0) ?? 0);
