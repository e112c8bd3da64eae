import { parseArgs } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { createBenchDatabase } from '../bench/bench-database.js';
import { createLogger } from '../src/log/create-logger.js';
import { Lifecycle } from '../src/process/lifecycle.js';
import { formatSoakReport, runSoak } from './soak-run.js';

/**
 * `npm run soak -- --minutes 60`: input, output and manager under a steady synthetic HTTP load on a fresh
 * database, their memory sampled throughout; prints each service's start/end/max, slope and verdict.
 */
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    'sample-seconds': { type: 'string', default: '10' },
    rate: { type: 'string', default: '5' },
    'per-request': { type: 'string', default: '20' },
    json: { type: 'string' },
    'no-gc': { type: 'boolean', default: false },
  },
});
const num = (name: 'minutes' | 'sample-seconds' | 'rate' | 'per-request') => {
  const n = Number(values[name]);
  if (!(n > 0)) throw new Error(`--${name} ${String(values[name])}: expected a positive number`);
  return n;
};

const log = createLogger({ level: 'warn', name: 'soak' });
const cleanup = new Lifecycle(log);
const abort = new AbortController();
process.once('SIGINT', () => abort.abort());
process.once('SIGTERM', () => abort.abort());
let code = 0;
try {
  const db = await createBenchDatabase(log, cleanup);
  const report = await runSoak({
    databaseUrl: db.url,
    durationMs: num('minutes') * 60_000,
    sampleEveryMs: num('sample-seconds') * 1000,
    ratePerSecond: num('rate'),
    perRequest: num('per-request'),
    gcBeforeSample: !values['no-gc'],
    signal: abort.signal,
    progress: (m) => console.error(`${new Date().toISOString().slice(11, 19)} ${m}`),
  });
  console.log(formatSoakReport(report));
  if (values.json) await writeFile(values.json, JSON.stringify(report, null, 1));
  if (report.services.some((s) => s.rss.verdict === 'growing' || s.heap.verdict === 'growing')) code = 1;
} catch (err) {
  console.error(err);
  code = 2;
} finally {
  await cleanup.shutdown('soak done');
}
process.exit(code);
