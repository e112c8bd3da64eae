/**
 * `npm test`: prepares the database server once (DATABASE_URL, else the embedded PostgreSQL) with a migrated
 * template, then runs every test file with node's test runner, each file in its own process and database.
 * Arguments, if any, are test files to run instead of all of them.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../src/version.js';
import { dropLeftoverTestDatabases, prepareTestServer } from './support/test-databases.js';

const testDir = join(PROJECT_ROOT, 'test');
const files = process.argv.length > 2
  ? process.argv.slice(2)
  : readdirSync(testDir, { recursive: true }).map(String).filter((f) => f.endsWith('.test.ts')).sort().map((f) => relative(process.cwd(), join(testDir, f)));

const setup = await prepareTestServer();
const dropped = await dropLeftoverTestDatabases(setup.adminUrl, setup.template);
process.stdout.write(`test database server: ${new URL(setup.adminUrl).host}${setup.startedEmbedded ? ' (embedded, started for this run)' : ''}; template ${setup.template}${dropped.length ? `; dropped ${dropped.length} leftover test databases` : ''}\n`);

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files],
  { stdio: 'inherit', env: { ...process.env, HOPMAP_TEST_ADMIN_URL: setup.adminUrl, HOPMAP_TEST_TEMPLATE: setup.template, HOPMAP_TEST_RUNNER_PID: String(process.pid) } },
);
const stop = (signal: NodeJS.Signals) => child.kill(signal);
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
const code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
await setup.stopEmbedded();
process.exit(code);
