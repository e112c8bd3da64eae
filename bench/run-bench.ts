/**
 * `npm run bench [-- --seconds N] [--only NAME] [--json FILE] [--consumers N] [--warmup N]`: speed figures of hopmap,
 * each beside a baseline measured in the same run on the same (fresh) database. Tests never assert on
 * wall-clock time; this is where speed is watched.
 */
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createLogger } from '../src/log/create-logger.js';
import { Lifecycle } from '../src/process/lifecycle.js';
import type { BenchCase, BenchContext, Figure } from './bench-case.js';
import { BENCH_CASES } from './bench-cases.js';
import { createBenchDatabase, describeMachine } from './bench-database.js';
import { formatDuration, formatReport, jsonReport } from './bench-table.js';

const USAGE = `usage: npm run bench -- [--seconds N] [--only NAME]... [--json FILE] [--consumers N] [--warmup N]
  --seconds N     length of each measurement (default 5)
  --warmup N      load before each measurement that is not counted (default 2 s: a fresh
                  \`hopmap input\` serves about half speed in its first 2 s)
  --only NAME     run only this case (repeatable or comma-separated), plus the baselines it needs
  --json FILE     also write the results as JSON
  --consumers N   concurrent HTTP consumers (default 8)
cases: ${BENCH_CASES.map((c) => c.name).join(', ')}`;

interface BenchOptions {
  seconds: number;
  warmup: number;
  only: string[];
  json?: string | undefined;
  consumers: number;
}

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' },
      only: { type: 'string', multiple: true, default: [] },
      json: { type: 'string' },
      consumers: { type: 'string', default: '8' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const seconds = Number(values.seconds);
  const warmup = Number(values.warmup);
  const consumers = Number(values.consumers);
  if (!(seconds > 0 && seconds <= 3600))
    throw new UsageError(`--seconds ${values.seconds}: expected a number of seconds, more than 0`);
  if (!(warmup >= 0 && warmup <= 600))
    throw new UsageError(`--warmup ${values.warmup}: expected a number of seconds, 0 or more`);
  if (!(Number.isInteger(consumers) && consumers >= 1 && consumers <= 1000))
    throw new UsageError(`--consumers ${values.consumers}: expected a whole number from 1 to 1000`);
  const only = values.only
    .flatMap((o) => o.split(','))
    .map((o) => o.trim())
    .filter(Boolean);
  for (const name of only) {
    if (!BENCH_CASES.some((c) => c.name === name)) throw new UsageError(`--only ${name}: no such case`);
  }
  return { seconds, warmup, only, json: values.json, consumers };
}

class UsageError extends Error {}

/** The cases --only asks for, with the baselines they compare against, in registry order. */
function selectCases(only: string[]): BenchCase[] {
  if (only.length === 0) return [...BENCH_CASES];
  const wanted = new Set(only);
  for (const c of BENCH_CASES) if (wanted.has(c.name)) for (const b of c.baselines ?? []) wanted.add(b);
  return BENCH_CASES.filter((c) => wanted.has(c.name));
}

async function runBench(opts: BenchOptions, signal: AbortSignal, cleanup: Lifecycle): Promise<boolean> {
  const started = performance.now();
  const loadAtStart = loadavg()[0]!;
  const log = createLogger({ level: 'warn', pretty: false });
  const progress = (message: string) =>
    process.stderr.write(`bench: [${formatDuration((performance.now() - started) / 1000)}] ${message}\n`);
  const cases = selectCases(opts.only);

  progress('creating and migrating a fresh database');
  const db = await createBenchDatabase(log, cleanup);
  signal.throwIfAborted();
  const machine = await describeMachine(db);
  progress(`database ${db.name} on ${db.server}`);

  const ctx: BenchContext = {
    db,
    seconds: opts.seconds,
    warmupSeconds: opts.warmup,
    consumers: opts.consumers,
    signal,
    cleanup,
    progress,
  };
  const figures: Figure[] = [];
  const notes: string[] = [];
  let failed = false;
  for (const c of cases) {
    const caseStarted = performance.now();
    try {
      const result = await c.run(ctx);
      figures.push(...result.figures);
      for (const n of result.notes) if (!notes.includes(n)) notes.push(n);
    } catch (err) {
      // One broken case (a missing tool, a lab that would not build) must not cost the rest of the table.
      if (signal.aborted) throw err;
      failed = true;
      notes.push(`${c.name}: FAILED, no figures: ${(err as Error).message.split('\n')[0]}`);
      progress(`${c.name} failed: ${(err as Error).stack ?? String(err)}`);
    }
    progress(`${c.name} took ${formatDuration((performance.now() - caseStarted) / 1000)}`);
  }

  const header = {
    machine,
    seconds: opts.seconds,
    warmupSeconds: opts.warmup,
    load: { start: loadAtStart, end: loadavg()[0]! },
    totalSeconds: (performance.now() - started) / 1000,
  };
  console.log(`\n${formatReport({ ...header, figures, notes })}`);
  if (opts.json) {
    const report = jsonReport({ ...header, figures, notes, options: { ...opts }, date: new Date() });
    await writeFile(opts.json, `${JSON.stringify(report, null, 2)}\n`);
    progress(`results written to ${opts.json}`);
  }
  return !failed;
}

async function main(): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`bench: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }

  // Ctrl-C stops the measurement in progress and cleans up; a second one exits at once.
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      console.error(
        `bench: second ${signal}, exiting without cleaning up (a hopmap_bench_* database may be left behind)`,
      );
      process.exit(130);
    }
    console.error(`bench: ${signal}, stopping and cleaning up (again to force)`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const cleanup = new Lifecycle(createLogger({ level: 'error', pretty: false }));
  let code = 0;
  try {
    if (!(await runBench(opts, controller.signal, cleanup))) code = 1;
  } catch (err) {
    code = controller.signal.aborted ? 130 : 1;
    console.error(
      `bench: ${controller.signal.aborted ? (controller.signal.reason as Error).message : ((err as Error).stack ?? String(err))}`,
    );
  } finally {
    if (!(await cleanup.shutdown('bench finished'))) code ||= 1;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return code;
}

process.exitCode = await main();
