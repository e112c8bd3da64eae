import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { stringify as toYaml } from 'yaml';
import { createPool, type Pool } from '../db/create-pool.js';
import { migrateDatabase } from '../db/migrate.js';
import { createKey } from '../keys/key-store.js';
import type { Logger } from '../log/create-logger.js';
import { loadLocalRanges } from '../map/enrich/local-ranges.js';
import { Supervisor } from '../process/supervise-children.js';
import { importTargets } from '../targets/import-targets.js';
import { BIN_PATH } from '../version.js';
import { buildLab } from './build-lab.js';
import { completeLabMap } from './complete-lab-map.js';
import { labAsRanges } from './lab-as-ranges.js';
import { labReport, type LabReport, type RunRecord } from './lab-run-report.js';
import { linkKey } from './plan-lab.js';
import {
  routesNotTracedInFullSince,
  scoreRouteChanges,
  type ChangeScore,
  type LabChange,
} from './route-change-score.js';
import { unixSocketUrl } from './lab-database.js';
import { openLab, type Lab } from './open-lab.js';
import { bootstrapAddresses, LAB_RANGES, type Topology } from './topology.js';

export interface LabRunOptions {
  topology: Topology;
  /** Lab name (namespaces hm-<name>-*); default the topology's. */
  name?: string | undefined;
  /** Any database on the PostgreSQL server to use; the run gets a database of its own there. */
  serverUrl: string;
  /** The run's database, dropped and created afresh. */
  database: string;
  /** Where configs, spools and logs go (replaced). */
  runDir: string;
  inputs?: number | undefined;
  outputs?: number | undefined;
  services?: string | undefined;
  vantages?: string[] | undefined;
  /** Each worker's packet-per-second cap. */
  pps?: number | undefined;
  /**
   * The inputs' pause between a consumer's passes over the targets (`--pass-cooldown`, default 10s): a hop found
   * after a pass ended is served at the next pass, so the map converges a few cooldowns after the start.
   */
  passCooldown?: string | undefined;
  /** Worker settings over the lab's defaults (snake_case, as in a worker's config file), e.g. `traceroute_mode`. */
  worker?: Record<string, unknown> | undefined;
  log: Logger;
  /** Hears each step as it begins (building the lab, starting the services …), for a progress line. */
  onStep?: ((text: string) => void) | undefined;
}

export interface LabProgress {
  results: number;
  links: number;
  hops: number;
  /** (vantage, known destination) pairs not yet measured: the map can still grow while this is above 0. */
  pending: number;
}

export interface WorkerSummary {
  vantage: string;
  produced: number;
  spooled: number;
}

const INPUT_PORT = 8100;
const OUTPUT_PORT = 8200;
const OUTPUT_HEALTH_PORT = 8300;

/**
 * The whole mapper on a lab: input and output instances in the services host's namespace (PostgreSQL over
 * its unix socket), one worker in each vantage host's namespace, every process supervised and restarted as
 * systemd would. Nothing runs in, or is added to, the host's own network namespace.
 */
export class LabRun {
  readonly startedAt = Date.now();
  private readonly supervisor: Supervisor;
  private stopped = false;
  /** Changes made to the lab while it runs, for scoring the route history against them. */
  readonly changes: LabChange[] = [];

  private constructor(
    readonly lab: Lab,
    readonly databaseUrl: string,
    readonly pool: Pool,
    readonly seeds: string[],
    readonly vantages: string[],
    readonly opts: LabRunOptions,
  ) {
    this.supervisor = new Supervisor(opts.log);
  }

  static async start(opts: LabRunOptions): Promise<LabRun> {
    const run = opts.topology.run;
    const services = opts.services ?? run?.services;
    const vantages = opts.vantages ?? run?.vantages;
    if (!services || !vantages?.length)
      throw new Error(
        `${opts.topology.name}: say which host runs the services and which are vantages (a run: section, or --services and --vantages)`,
      );
    rmSync(opts.runDir, { recursive: true, force: true });
    mkdirSync(join(opts.runDir, 'targets'), { recursive: true });

    opts.onStep?.(`creating the database ${opts.database}`);
    const databaseUrl = await recreateDatabase(opts.serverUrl, opts.database);
    await migrateDatabase(databaseUrl, opts.log);
    opts.onStep?.(`building the lab (${Object.keys(opts.topology.nodes).length} network namespaces)`);
    const lab = await buildLab(opts.topology, { name: opts.name });
    const pool = createPool(databaseUrl, opts.log, { max: 4, applicationName: 'hopmap-lab' });
    // The map's AS level needs the lab's AS design: its addresses are benchmarking space, in no public data.
    await loadLocalRanges(pool, labAsRanges(lab.plan));
    const seeds = bootstrapAddresses(lab.plan);
    writeFileSync(
      join(opts.runDir, 'targets', 'lab.txt'),
      `# one address per target range of ${lab.name}\n${seeds.join('\n')}\n`,
    );
    await importTargets(pool, join(opts.runDir, 'targets'));

    const labRun = new LabRun(lab, databaseUrl, pool, seeds, vantages, opts);
    try {
      await labRun.startServices(
        services,
        await unixSocketUrl(databaseUrl),
        opts.inputs ?? run?.inputs ?? 1,
        opts.outputs ?? run?.outputs ?? 1,
      );
    } catch (err) {
      await labRun.stop();
      throw err;
    }
    return labRun;
  }

  private async startServices(services: string, socketUrl: string, inputs: number, outputs: number): Promise<void> {
    this.opts.onStep?.(`starting ${inputs} input and ${outputs} output instance(s) on ${services}`);
    const ns = ['ip', 'netns', 'exec', this.lab.nsName(services)];
    const common = ['--host', '0.0.0.0', '--no-migrate', '--log-level', 'info'];
    const env = { DATABASE_URL: socketUrl };
    const logFile = (name: string) => join(this.opts.runDir, `${name}.log`);
    for (let i = 0; i < inputs; i++) {
      const name = `input-${i + 1}`;
      const args = [
        BIN_PATH,
        'input',
        ...common,
        '--port',
        String(INPUT_PORT + i),
        '--name',
        name,
        '--allow-cidr',
        LAB_RANGES.map((r) => r.cidr).join(','),
        '--pass-cooldown',
        this.opts.passCooldown ?? '10s',
        '--lease-ttl',
        '30s',
      ];
      this.supervisor.start({ name, args, env, prefix: ns, logFile: logFile(name) });
    }
    for (let i = 0; i < outputs; i++) {
      const name = `output-${i + 1}`;
      const args = [
        BIN_PATH,
        'output',
        ...common,
        '--port',
        String(OUTPUT_PORT + i),
        '--health-port',
        String(OUTPUT_HEALTH_PORT + i),
        '--name',
        name,
      ];
      this.supervisor.start({ name, args, env, prefix: ns, logFile: logFile(name) });
    }
    await this.waitForInstances(inputs, outputs);

    this.opts.onStep?.(`starting ${this.vantages.length} worker(s) on ${this.vantages.join(', ')}`);
    const address = this.lab.addressOf(services);
    const urls = (port: number, n: number) =>
      Array.from({ length: n }, (_, i) => `http://${address}:${port + i}`).join(',');
    for (const vantage of this.vantages) {
      const name = `worker-${vantage}`;
      // Input and output refuse requests without a key: each worker gets one of its own, as on real machines,
      // named after its vantage, so that it still leases as the vantage (a worker key sending its own name as
      // consumer id keeps it; any other id becomes `<key name>/<id>`).
      const { key } = await createKey(this.pool, { name: vantage, role: 'worker', createdBy: 'hopmap lab run' });
      const config = join(this.opts.runDir, `${name}.yaml`);
      writeFileSync(
        config,
        toYaml({
          worker_id: vantage,
          api_key: key,
          input_file: urls(INPUT_PORT, inputs),
          output_file: urls(OUTPUT_PORT, outputs),
          interval_seconds: 1,
          // The input's passes decide when a target comes round again (a skipped target would never be acknowledged).
          cooldown_minutes: 0,
          // UDP flows vary by port, so multipath tracing (MDA) can find every ECMP branch; ICMP echo cannot.
          traceroute_method: 'udp-paris',
          traceroute_mode: 'multipath',
          // MDA stops at each hop once a missed next hop is unlikely at this confidence: at 0.95 a two-way
          // branch that one (vantage, destination) pair alone crosses was missed about once per run (docs/lab.md).
          multipath_confidence: 0.99,
          pps: this.opts.pps ?? 2_000,
          concurrency: 32,
          batch_size: 20,
          probe_timeout: '500ms',
          spool_dir: join(this.opts.runDir, `spool-${vantage}`),
          health_check_port: 8090,
          health_check_host: '127.0.0.1',
          shutdown_flush: '20s',
          log_level: 'info',
          ...this.opts.worker,
        }),
        { mode: 0o600 },
      );
      this.supervisor.start({
        name,
        args: [BIN_PATH, 'ping', '--config', config],
        prefix: ['ip', 'netns', 'exec', this.lab.nsName(vantage)],
        logFile: logFile(name),
      });
    }
  }

  /** Every instance registers itself in the database once it serves. */
  private async waitForInstances(inputs: number, outputs: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await this.pool.query<{ t: string; n: number }>(
        `select service_type as t, count(*)::int as n from service_instances group by 1`,
      );
      const count = (t: string) => rows.find((r) => r.t === t)?.n ?? 0;
      if (count('input') >= inputs && count('output') >= outputs) return;
      if (Date.now() > deadline)
        throw new Error(
          `the lab's services did not start within ${timeoutMs / 1000} s; see the logs in ${this.opts.runDir}`,
        );
      await sleep(200);
    }
  }

  async progress(): Promise<LabProgress> {
    const { rows } = await this.pool.query<LabProgress>(
      `with dest as (select unnest($1::inet[]) as d union select address from hops)
       select (select count(*) from result_ids)::int as results,
              (select count(*) from links)::int as links,
              (select count(*) from hops)::int as hops,
              (select count(*) from dest, unnest($2::text[]) as w
                where not exists (select 1 from measurements.results r where r.target = dest.d and r.worker = w))::int as pending`,
      [this.seeds, this.vantages],
    );
    return rows[0]!;
  }

  /**
   * Waits until the map stops growing: every known destination measured from every vantage, and no new
   * link or hop for `quietMs`. Resolves with when it last grew.
   */
  async waitForConvergence(
    opts: { quietMs?: number; timeoutMs?: number; onProgress?: (p: LabProgress) => void } = {},
  ): Promise<{ lastGrowthAt: number; progress: LabProgress }> {
    const quietMs = opts.quietMs ?? 5_000;
    const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
    let last = { links: -1, hops: -1 };
    let lastGrowthAt = Date.now();
    for (;;) {
      const p = await this.progress();
      opts.onProgress?.(p);
      if (p.links !== last.links || p.hops !== last.hops) {
        last = p;
        lastGrowthAt = Date.now();
      } else if (p.pending === 0 && Date.now() - lastGrowthAt >= quietMs) {
        return { lastGrowthAt, progress: p };
      }
      if (Date.now() > deadline)
        throw new Error(`the map did not converge in time: ${JSON.stringify(p)}; see the logs in ${this.opts.runDir}`);
      await sleep(500);
    }
  }

  /**
   * Takes links down (or up) at once while the mapper runs, every route reinstalled as a routing protocol would,
   * and records when: the report scores the route changes the run records against it.
   */
  async setLinks(links: Array<[string, string]>, state: 'down' | 'up'): Promise<LabChange> {
    const at = new Date().toISOString();
    for (const [a, b] of links) await this.lab.setLink(a, b, state);
    const change: LabChange = {
      at,
      links,
      state,
      downAfter: this.lab.downLinks().map((l) => linkKey(l.a, l.b)),
    };
    this.changes.push(change);
    return change;
  }

  /**
   * After `change`, maps on until every route that had to move has recorded its change and every route still
   * routed has been traced in full since (so no change can still be hiding behind a stop point). Resolves
   * with the change's score.
   */
  async waitForRouteChanges(
    change: LabChange,
    opts: { timeoutMs?: number; onProgress?: (score: ChangeScore, untraced: number) => void } = {},
  ): Promise<ChangeScore> {
    const deadline = Date.now() + (opts.timeoutMs ?? 5 * 60_000);
    const index = this.changes.indexOf(change);
    for (;;) {
      const score = (await scoreRouteChanges(this.pool, this.lab.plan, this.changes))[index]!;
      const untraced = await routesNotTracedInFullSince(this.pool, this.lab.truth(), new Date(change.at));
      opts.onProgress?.(score, untraced.length);
      if (score.missed.length === 0 && untraced.length === 0) return score;
      if (Date.now() > deadline)
        throw new Error(
          `routes did not record the change (${change.links.map((l) => l.join(' - ')).join(', ')} ${change.state}) in time: ` +
            `missed ${JSON.stringify(score.missed)}, ${untraced.length} not traced in full since; see the logs in ${this.opts.runDir}`,
        );
      await sleep(1_000);
    }
  }

  /** kill -9 (or another signal) to one process of the run, e.g. 'input-1'; it is restarted as usual. */
  signal(name: string, signal: NodeJS.Signals): boolean {
    return this.supervisor.signal(name, signal);
  }

  /** kill -9 to one process of the run, restarted only after `downMs`. */
  kill(name: string, downMs: number): boolean {
    return this.supervisor.kill(name, downMs);
  }

  /** Stops the workers (each flushes its spool first) and reads what each says it produced. */
  async stopWorkers(): Promise<WorkerSummary[]> {
    await Promise.all(this.vantages.map((v) => this.supervisor.stop(`worker-${v}`, 30_000)));
    return this.vantages.map((vantage) => {
      const lines = readFileSync(join(this.opts.runDir, `worker-${vantage}.log`), 'utf8').split('\n');
      const summaries = lines
        .filter((l) => l.includes('"worker summary"'))
        .map((l) => JSON.parse(l) as { produced: number; spooled: number });
      if (summaries.length === 0)
        throw new Error(`worker ${vantage} wrote no summary; see ${this.opts.runDir}/worker-${vantage}.log`);
      // A restarted worker starts counting again; what it spooled before is delivered by the next one.
      return { vantage, produced: summaries.reduce((n, s) => n + s.produced, 0), spooled: summaries.at(-1)!.spooled };
    });
  }

  /**
   * Ends a converged run: stops the workers (each flushes its spool first, and a delivered batch is
   * committed, so the database then holds everything they measured), completes the map as the output's
   * jobs would (AS of every hop, AS graph, routers), writes run.json and scores the map.
   */
  async finish(converged: { lastGrowthAt: number }): Promise<{ record: RunRecord; report: LabReport }> {
    const detectedAt = new Date().toISOString();
    this.opts.onStep?.('stopping the workers: each delivers what it still holds');
    const workers = await this.stopWorkers();
    await completeLabMap(this.pool, this.opts.onStep);
    const record: RunRecord = {
      lab: this.lab.name,
      database: this.opts.database,
      vantages: this.vantages,
      seeds: this.seeds,
      startedAt: new Date(this.startedAt).toISOString(),
      convergedAt: new Date(converged.lastGrowthAt).toISOString(),
      detectedAt,
      workers,
      ...(this.changes.length > 0 && { changes: this.changes }),
    };
    writeFileSync(join(this.opts.runDir, 'run.json'), `${JSON.stringify(record, null, 2)}\n`);
    this.opts.onStep?.('comparing the map with the lab');
    // Scored against the lab with every link up, as `hopmap lab report` does later: links taken down during the
    // run were true links when found, and the route changes are scored against each state in turn. ICMP modes
    // stay as they are now (a router that started answering is mapped through).
    const asBuilt = openLab(this.opts.topology, { name: this.lab.name });
    for (const [name, node] of this.lab.plan.nodes) asBuilt.plan.nodes.get(name)!.icmp = node.icmp;
    return { record, report: await labReport(this.pool, asBuilt, record) };
  }

  /** Stops every process, removes the lab's namespaces, closes the pool; the database and logs stay. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.supervisor.stopAll(30_000);
    await this.lab.teardown();
    await this.pool.end();
  }
}

async function recreateDatabase(serverUrl: string, database: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) throw new Error(`database name "${database}": use a-z, 0-9 and _`);
  const admin = new pg.Client(serverUrl);
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.query(`create database ${database}`);
  } finally {
    await admin.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}
