/**
 * `npm run bench:growth [-- --targets 1e3,1e5,1e7] [--results 1e5,1e6,1e7] [--seconds N] [--json FILE]`: how
 * cost grows with work, each figure beside its baseline at the same size in the same run (bench/README.md).
 */
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createLogger } from '../src/log/create-logger.js';
import { Lifecycle } from '../src/process/lifecycle.js';
import type { BenchContext } from './bench-case.js';
import { createBenchDatabase, describeMachine } from './bench-database.js';
import { formatDuration, formatReport, jsonReport } from './bench-table.js';
import { growthCase } from './cases/growth-small.js';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '1e3,1e5,1e7' },
    results: { type: 'string', default: '1e5,1e6,1e7' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    consumers: { type: 'string', default: '8' },
    json: { type: 'string' },
  },
});
const sizes = (name: 'targets' | 'results') =>
  values[name]
    .split(',')
    .filter(Boolean)
    .map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1 || n > 1e9)
        throw new Error(`--${name} ${s}: expected whole numbers up to 1e9, e.g. 1e5`);
      return n;
    });
const opts = {
  targets: sizes('targets'),
  results: sizes('results'),
  seconds: Number(values.seconds),
  warmup: Number(values.warmup),
  consumers: Number(values.consumers),
};

const controller = new AbortController();
const onSignal = () => controller.abort(new Error('interrupted'));
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
const cleanup = new Lifecycle(createLogger({ level: 'error', pretty: false }));
const started = performance.now();
const progress = (m: string) =>
  process.stderr.write(`growth: [${formatDuration((performance.now() - started) / 1000)}] ${m}\n`);
let code = 0;
try {
  const loadAtStart = loadavg()[0]!;
  const db = await createBenchDatabase(createLogger({ level: 'warn', pretty: false }), cleanup);
  const machine = await describeMachine(db);
  const ctx: BenchContext = {
    db,
    seconds: opts.seconds,
    warmupSeconds: opts.warmup,
    consumers: opts.consumers,
    signal: controller.signal,
    cleanup,
    progress,
  };
  const { figures, notes } = await growthCase('growth', opts.targets, opts.results).run(ctx);
  const header = {
    machine,
    seconds: opts.seconds,
    warmupSeconds: opts.warmup,
    load: { start: loadAtStart, end: loadavg()[0]! },
    totalSeconds: (performance.now() - started) / 1000,
  };
  console.log(`\n${formatReport({ ...header, figures, notes })}`);
  if (values.json)
    await writeFile(
      values.json,
      `${JSON.stringify(jsonReport({ ...header, figures, notes, options: opts, date: new Date() }), null, 2)}\n`,
    );
} catch (err) {
  code = 1;
  console.error(`growth: ${(err as Error).stack ?? String(err)}`);
} finally {
  if (!(await cleanup.shutdown('growth finished'))) code ||= 1;
}
process.exitCode = code;
