import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { addDatabaseOptions, databaseConfigShape, loadCommandConfig, typedFlags } from '../config/common-config.js';
import { bool, duration, list, positiveInt } from '../config/values.js';
import { createPool } from '../db/create-pool.js';
import { resolveDatabase } from '../db/resolve-database.js';
import { labMapCommand, labMapHint } from '../lab/lab-map-hint.js';
import { elapsed, formatLabProgress, ProgressLine } from '../lab/lab-progress.js';
import { LabRun } from '../lab/lab-run.js';
import { formatReport, labReport, type RunRecord } from '../lab/lab-run-report.js';
import { findLink, LabStateError } from '../lab/change-lab.js';
import { openLab } from '../lab/open-lab.js';
import { loadTopology, type Topology } from '../lab/topology.js';
import { createLogger } from '../log/create-logger.js';
import { PROJECT_ROOT } from '../version.js';
import { CommandError, runCommand } from './run-command.js';

const runConfig = z.object({
  ...databaseConfigShape,
  name: z.string().optional(),
  database: z.string().optional(),
  runDir: z.string().optional(),
  inputs: positiveInt().optional(),
  outputs: positiveInt().optional(),
  services: z.string().optional(),
  vantages: list().optional(),
  pps: positiveInt().optional(),
  quiet: duration().default(5_000),
  timeout: duration().default(10 * 60_000),
  trace: z.enum(['single', 'multipath']).default('multipath'),
  fullTraceEvery: duration().default(60_000),
  cut: list().optional(),
  json: bool().default(false),
});
type RunConfig = z.infer<typeof runConfig>;

const common = (cmd: Command) =>
  addDatabaseOptions(cmd)
    .argument('<file>', 'a topology YAML file with a run: section (docs/lab.md)')
    .option('--name <name>', "run the lab under another name than the file's")
    .option('--database <name>', "the run's database on the server (default hopmap_lab_<name>)")
    .option('--run-dir <dir>', 'configs, spools and logs of the run (default .hopmap/lab/<name>)')
    .option('--json', 'print the report as JSON');

/** Where a run of `file` keeps its database and files, by default. */
export function runPlace(file: string, cfg: Pick<RunConfig, 'name' | 'database' | 'runDir' | 'stateDir'>) {
  const topology = loadTopology(file);
  const name = cfg.name ?? topology.name;
  return {
    topology,
    name,
    database: cfg.database ?? `hopmap_lab_${name}`,
    runDir: cfg.runDir ?? join(cfg.stateDir, 'lab', name),
  };
}

export function labRunCommand(): Command {
  const cmd = common(new Command('run'))
    .description(
      'run the whole mapper on the lab until the map stops growing, then print discovered versus true links (root only)',
    )
    .option('--inputs <n>', "input instances (default: the file's run: section, else 1)")
    .option('--outputs <n>', "output instances (default: the file's run: section, else 1)")
    .option('--services <node>', 'the host whose namespace runs input and output')
    .option('--vantages <nodes>', 'comma-separated hosts that each run a worker')
    .option('--pps <n>', "each worker's packets-per-second cap (default 2000)")
    .option('--quiet <duration>', 'converged when nothing new was found for this long (default 5s)')
    .option(
      '--trace <mode>',
      'the workers trace single flows (Paris, with Doubletree stop sets) or multipath (MDA, the default)',
    )
    .option(
      '--full-trace-every <duration>',
      "with --trace single: each destination's full trace, no stop set, at least this often (default 1m)",
    )
    .option(
      '--cut <links>',
      'once the map converged, take these links down at once (a-b,c-d) and map on until every route that had to move recorded the change; the report scores it',
    )
    .option('--timeout <duration>', 'give up after this long (default 10m)');
  cmd.action(
    runCommand(async (file: string) => {
      const cfg = loadCommandConfig(cmd, runConfig);
      const log = createLogger({
        level: cfg.verbose ? 'debug' : cfg.logLevel === 'info' ? 'warn' : cfg.logLevel,
        name: 'lab-run',
      });
      const place = runPlace(file, cfg);
      // On stderr, so stdout keeps the report alone: one updating line on a terminal, a line every 10 s elsewhere.
      const startedAt = Date.now();
      const line = new ProgressLine({ isTTY: process.stderr.isTTY === true, write: (t) => process.stderr.write(t) });
      const step = (text: string) => line.step(`${elapsed(Date.now() - startedAt)}: ${text}`);
      const cuts = (cfg.cut ?? []).map((item) => cutLink(place.topology, item));
      const db = await resolveDatabase(cfg, log);
      const run = await LabRun.start({
        ...place,
        serverUrl: db.url,
        inputs: cfg.inputs,
        outputs: cfg.outputs,
        services: cfg.services,
        vantages: cfg.vantages,
        pps: cfg.pps,
        worker: { traceroute_mode: cfg.trace, full_trace_every: `${cfg.fullTraceEvery}ms` },
        log,
        onStep: step,
      });
      const stopOnSignal = () => void run.stop().then(() => process.exit(130));
      process.once('SIGINT', stopOnSignal).once('SIGTERM', stopOnSignal);
      try {
        step('mapping until the map stops growing');
        const converged = await run.waitForConvergence({
          quietMs: cfg.quiet,
          timeoutMs: cfg.timeout,
          onProgress: (p) => line.update(formatLabProgress(p, Date.now() - startedAt)),
        });
        if (cuts.length > 0) {
          const change = await run.setLinks(cuts, 'down');
          step(
            `took down ${cuts.map(([a, b]) => `${a} - ${b}`).join(', ')}; mapping until every route that had to move records it`,
          );
          await run.waitForRouteChanges(change, {
            timeoutMs: cfg.timeout,
            onProgress: (score, untraced) =>
              line.update(
                `${elapsed(Date.now() - startedAt)}: ${score.detected.length} routes recorded a change, ${score.missed.length} of ${score.mustMove} that had to move still waiting, ${untraced} not traced in full since`,
              ),
          });
        }
        const { report } = await run.finish(converged);
        // With --json the report is the last word: a program reads it, and nothing may follow on either stream.
        if (!cfg.json) step('done');
        line.end();
        process.stdout.write(cfg.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
        if (!cfg.json) {
          const typed = typedFlags(cmd);
          const command = labMapCommand(file, {
            name: cfg.name,
            database: cfg.database,
            databaseUrl: typeof typed.databaseUrl === 'string' ? typed.databaseUrl : undefined,
            // The state dir keeps the embedded PostgreSQL and the server key the map's users are sealed with.
            stateDir: cfg.stateDir === join(PROJECT_ROOT, '.hopmap') ? undefined : cfg.stateDir,
          });
          const serverFromEnv = !db.embedded && typed.databaseUrl === undefined;
          const map = { databaseUrl: run.databaseUrl, embedded: Boolean(db.embedded), command, serverFromEnv };
          process.stdout.write(`\n${labMapHint(map).join('\n')}\n`);
        }
      } finally {
        line.end();
        await run.stop();
        await db.embedded?.release();
      }
    }),
  );
  return cmd;
}

export function labReportCommand(): Command {
  const cmd = common(new Command('report')).description(
    "print a finished run's discovered versus true links, probes, results and time to converge",
  );
  cmd.action(
    runCommand(async (file: string) => {
      const cfg = loadCommandConfig(cmd, runConfig);
      const log = createLogger({ level: cfg.verbose ? 'debug' : 'warn', name: 'lab-report' });
      const place = runPlace(file, cfg);
      let record: RunRecord;
      try {
        record = JSON.parse(readFileSync(join(place.runDir, 'run.json'), 'utf8')) as RunRecord;
      } catch (err) {
        throw new CommandError(
          `no finished run of ${place.name} in ${place.runDir} (${(err as Error).message}); run hopmap lab run ${file} first`,
        );
      }
      const db = await resolveDatabase(cfg, log);
      const u = new URL(db.url);
      u.pathname = `/${record.database}`;
      const pool = createPool(u.toString(), log, { max: 4 });
      try {
        const report = await labReport(pool, openLab(place.topology, { name: place.name }), record);
        process.stdout.write(cfg.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      } finally {
        await pool.end();
        await db.embedded?.release();
      }
    }),
  );
  return cmd;
}

/** `a-b` as two nodes of the topology (a node's name may hold a hyphen: the split that names two nodes wins). */
function cutLink(topology: Topology, item: string): [string, string] {
  for (let i = item.indexOf('-'); i > 0; i = item.indexOf('-', i + 1)) {
    const [a, b] = [item.slice(0, i), item.slice(i + 1)];
    if (a in topology.nodes && b in topology.nodes) {
      findLink(openLab(topology).plan, a, b); // a link the lab has, or the LabStateError that says so
      return [a, b];
    }
  }
  throw new LabStateError(`--cut ${item}: expected two nodes of lab ${topology.name} joined by "-", e.g. c2-c3`);
}
