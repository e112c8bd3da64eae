/**
 * `npm test` and its lanes. `--lane unit|db|lab` (repeatable) picks the files of those lanes, by the needs each
 * file declares on its `const skip = needs(…)` line (test/support/needs.ts): none → unit, the database only → db,
 * root, a browser or a Debian tool → lab. No lane and no files: every file. Arguments that are not options are
 * test files to run instead. For the db and lab lanes it prepares the database server once (DATABASE_URL, else
 * the embedded PostgreSQL) with a migrated template; each file then runs in its own process and database.
 * The closing summary counts skipped tests by reason; HOPMAP_FORBID_SKIPS=1 (CI) makes any skip fail the run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from '../src/version.js';
import { LANES, laneOf, skipSummary, undeclaredUse, type Lane } from './support/needs.js';
import { dropLeftoverTestDatabases, prepareTestServer } from './support/test-databases.js';

const testDir = join(PROJECT_ROOT, 'test');
const stateDir = join(PROJECT_ROOT, '.hopmap');
const LOCAL_DURATIONS = join(stateDir, 'test-durations.json');
const OUTCOMES_OUT = join(stateDir, `test-outcomes.${process.pid}.jsonl`);
/**
 * Files run at once: two, as CI has 2 CPUs. A third took a whole run from about 15 minutes to 12 once (733 s),
 * but in December 2026 every file ran about 1.6 times slower beside two others and the run took 18 minutes
 * (docs/testing.md); HOPMAP_TEST_RUNNERS=3 runs three where the machine has the room.
 */
const LANE_RUNNERS = Number(process.env.HOPMAP_TEST_RUNNERS) || 2;
const forbidSkips = process.env.HOPMAP_FORBID_SKIPS === '1';

const args = process.argv.slice(2);
const lanesAsked = new Set<Lane>();
const named: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--lane') {
    const lane = args[++i] as Lane;
    if (!LANES.includes(lane)) throw new Error(`--lane ${lane}: one of ${LANES.join(', ')}`);
    lanesAsked.add(lane);
  } else named.push(args[i]!);
}
const allFiles = readdirSync(testDir, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => relative(PROJECT_ROOT, join(testDir, f)));
const laneOfFile = new Map(
  (named.length ? named : allFiles).map((f) => [f, laneOf(readFileSync(join(PROJECT_ROOT, f), 'utf8'))]),
);
const files = named.length ? named : allFiles.filter((f) => !lanesAsked.size || lanesAsked.has(laneOfFile.get(f)!));
const wholeRun = !named.length;

// A file that uses the database, a browser or a lab without declaring it would run in the wrong lane.
const undeclared = files
  .map((f) => [f, undeclaredUse(readFileSync(join(PROJECT_ROOT, f), 'utf8'))] as const)
  .filter(([, why]) => why);
if (undeclared.length) {
  for (const [f, why] of undeclared) process.stderr.write(`${f}: ${why}\n`);
  process.exit(1);
}

const count = (lane: Lane) => files.filter((f) => laneOfFile.get(f) === lane).length;
process.stdout.write(`${files.length} test files: ${LANES.map((l) => `${l} ${count(l)}`).join(', ')}\n`);

/**
 * LANE_RUNNERS files run at once. node's runner sorts the files it is given, so with one runner a long file may start
 * last and run alone at the end; instead each lane is a runner of its own, one file at a time, and the files
 * are dealt longest first to the lane with the least work (by the durations of this checkout's last whole
 * run, else those in test/file-durations.json), so the lanes end together.
 */
function dealToLanes(all: string[]): string[][] {
  const read = (path: string): Record<string, number> =>
    existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>) : {};
  const seconds = { ...read(join(testDir, 'file-durations.json')), ...read(LOCAL_DURATIONS) };
  // A file never timed yet is most likely small.
  const cost = (f: string) => seconds[f] ?? 10;
  const lanes = Array.from({ length: LANE_RUNNERS }, () => ({ files: [] as string[], seconds: 0 }));
  for (const f of [...all].sort((a, b) => cost(b) - cost(a))) {
    const lane = lanes.reduce((min, l) => (l.seconds < min.seconds ? l : min));
    lane.files.push(f);
    lane.seconds += cost(f);
  }
  return lanes.map((l) => l.files).filter((l) => l.length > 0);
}

// The unit lane needs no database: it neither starts nor reaches one.
const needsDatabase = files.some((f) => laneOfFile.get(f) !== 'unit');
let stopEmbedded = async () => {};
const env: NodeJS.ProcessEnv = {
  ...process.env,
  HOPMAP_TEST_RUNNER_PID: String(process.pid),
  HOPMAP_TEST_OUTCOMES_OUT: OUTCOMES_OUT,
};
if (needsDatabase) {
  try {
    const setup = await prepareTestServer();
    stopEmbedded = setup.stopEmbedded;
    const dropped = wholeRun ? await dropLeftoverTestDatabases(setup.adminUrl, setup.template) : [];
    process.stdout.write(
      `test database server: ${new URL(setup.adminUrl).host}${setup.startedEmbedded ? ' (embedded, started for this run)' : ''}; template ${setup.template}${dropped.length ? `; dropped ${dropped.length} leftover test databases` : ''}\n`,
    );
    Object.assign(env, { HOPMAP_TEST_ADMIN_URL: setup.adminUrl, HOPMAP_TEST_TEMPLATE: setup.template });
  } catch (err) {
    // No server: the files that need one skip with this reason (needs('database')).
    const why = (err as Error).message.split('\n')[0]!.slice(0, 200);
    process.stdout.write(`no test database server: ${why}\n`);
    env.HOPMAP_TEST_NO_DATABASE = why;
  }
}

const runner = (laneFiles: string[], concurrency: number, durationsOut?: string) =>
  spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      `--test-concurrency=${concurrency}`,
      '--test-timeout=600000',
      '--test-reporter=tap',
      '--test-reporter-destination=stdout',
      '--test-reporter=./test/support/file-durations-reporter.mjs',
      '--test-reporter-destination=stdout',
      '--test-reporter=./test/support/outcomes-reporter.mjs',
      '--test-reporter-destination=stdout',
      ...laneFiles,
    ],
    {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', durationsOut ? 'pipe' : 'inherit', 'inherit'],
      env: { ...env, ...(durationsOut ? { HOPMAP_TEST_DURATIONS_OUT: durationsOut } : {}) },
    },
  );

mkdirSync(stateDir, { recursive: true });
rmSync(OUTCOMES_OUT, { force: true });
// Unit files are small and touch nothing shared: one runner, several at once. The others: LANE_RUNNERS runners dealt longest first.
const onlyUnit = files.every((f) => laneOfFile.get(f) === 'unit');
const dealt = wholeRun && !onlyUnit;
const lanes = dealt ? dealToLanes(files) : [files];
const laneOut = (i: number) => join(stateDir, `test-durations.lane-${i + 1}.json`);
const children = lanes.map((laneFiles, i) => {
  if (!dealt) return runner(laneFiles, onlyUnit ? Math.max(2, availableParallelism()) : LANE_RUNNERS);
  process.stdout.write(`lane ${i + 1}: ${laneFiles.length} files\n`);
  const child = runner(laneFiles, 1, laneOut(i));
  // Each line carries its lane: two TAP streams share the log.
  createInterface({ input: child.stdout! }).on('line', (line) => process.stdout.write(`[${i + 1}] ${line}\n`));
  return child;
});
const stop = (signal: NodeJS.Signals) => children.forEach((c) => c.kill(signal));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
const codes = await Promise.all(
  children.map(
    (c) => new Promise<number>((resolve) => c.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))),
  ),
);
if (dealt) {
  // Merged into the last figures, so a run of one lane keeps the other lanes' durations.
  const merged: Record<string, number> = existsSync(LOCAL_DURATIONS)
    ? (JSON.parse(readFileSync(LOCAL_DURATIONS, 'utf8')) as Record<string, number>)
    : {};
  for (let i = 0; i < lanes.length; i++)
    if (existsSync(laneOut(i)))
      Object.assign(merged, JSON.parse(readFileSync(laneOut(i), 'utf8')) as Record<string, number>);
  if (Object.keys(merged).length)
    writeFileSync(
      LOCAL_DURATIONS,
      `${JSON.stringify(Object.fromEntries(Object.entries(merged).sort((a, b) => b[1] - a[1])), null, 2)}\n`,
    );
}
await stopEmbedded();

const outcomes = existsSync(OUTCOMES_OUT)
  ? readFileSync(OUTCOMES_OUT, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { outcome: 'skip' | 'fail'; file: string; name: string; reason: string })
  : [];
rmSync(OUTCOMES_OUT, { force: true });
const skipped = outcomes.filter((o) => o.outcome === 'skip');
const failed = outcomes.filter((o) => o.outcome === 'fail');
const passed = codes.every((c) => c === 0);
process.stdout.write(
  `\n${files.length} files: ${passed ? 'all passed' : `FAILED (runners exited ${codes.join(', ')}), see "not ok" above`}\n`,
);
for (const f of failed) process.stdout.write(`  failed: ${f.file}: ${f.name}: ${f.reason}\n`);
if (skipped.length) {
  process.stdout.write(`${skipSummary(skipped.map((s) => s.reason))}\n`);
  if (forbidSkips) {
    for (const s of skipped) process.stdout.write(`  ${s.file}: ${s.name}: ${s.reason}\n`);
    process.stdout.write('HOPMAP_FORBID_SKIPS=1: a skipped test fails the run\n');
  }
}
process.exit(!passed ? (codes.find((c) => c !== 0) ?? 1) : forbidSkips && skipped.length ? 1 : 0);
