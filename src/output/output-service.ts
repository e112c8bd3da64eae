import type { Router } from 'express';
import { roleGate, type AuthMode } from '../keys/require-role.js';
import type { Pool } from '../db/create-pool.js';
import { inTransaction } from '../db/in-transaction.js';
import type { JobSet } from '../jobs/job-set.js';
import type { IngestFollowUps } from '../results/ingest-follow-ups.js';
import { ensurePartitionsAhead } from '../results/partitions.js';
import { resultsPerMinuteCrontab, resultsPerMinuteTasks } from '../results/results-per-minute.js';
import { rotateResults, type RotationPolicy } from '../results/rotate-results.js';
import type { ServiceModule } from '../service/start-service.js';
import { dumpRoute } from './dump-route.js';
import { forwardHops } from './forward-hops.js';
import { outputMetrics } from './output-metrics.js';
import { queryRoutes } from './query-routes.js';
import { resultsRoutes } from './results-routes.js';

export const DEFAULT_OUTPUT_PORT = 8081;
/** The original system's separate health port: /health, /ready, /metrics, /service-info, /stats, /recent. */
export const DEFAULT_OUTPUT_HEALTH_PORT = 8091;

/** Another capability's read API for operators: `paths` (prefixes) go behind the admin gate, `router` serves them. */
export interface AdminApi {
  paths: string[];
  router(deps: { pool: Pool }): Router;
}

/**
 * `ingest`, `jobs` and `adminApis` are what this service runs of other capabilities: the process that composes
 * it passes them in (src/cli/output-wiring.ts), so the output service imports none of them.
 */
export interface OutputOptions {
  /** What storing a batch does beyond results, in its transaction: targets' lease acks and hops, aliases' evidence. */
  ingest: IngestFollowUps;
  /** Background jobs for this service's runner (the map's, the aliases'). */
  jobs?: JobSet[] | undefined;
  /** Read APIs for operators, on both ports behind the admin gate (the map's route history). */
  adminApis?: AdminApi[] | undefined;
  /** Also POST every new hop to this input service's /hops (the original split deployment). */
  inputUrl?: string | undefined;
  /** A feeder key sent to `inputUrl` as `Authorization: Bearer`. */
  inputKey?: string | undefined;
  /** `keys` (the default): every route but the monitoring ones needs a key of its role; `off`: a private network. */
  auth?: AuthMode | undefined;
  rotation?: RotationPolicy;
  /** pg_dump for GET /dump; by default the newest on the machine. */
  pgDump?: string | undefined;
}

/** The results ingester: stores results once, extracts hops and links, and feeds the hops back. */
export function outputService(opts: OutputOptions): ServiceModule {
  return {
    type: 'output',
    capabilities: ['results', 'ndjson', 'gzip', 'links', 'hops', 'stats', 'dump', 'route-history'],
    async build({ pool, databaseUrl, log, metrics }) {
      await inTransaction(pool, (client) => ensurePartitionsAhead(client, 2));
      const m = outputMetrics(metrics);
      const onHops = opts.inputUrl
        ? forwardHops(opts.inputUrl, log.child({ module: 'forward-hops' }), opts.inputKey)
        : undefined;
      const rotation = opts.rotation ?? {};
      const rotate = () => rotateResults(pool, rotation, log.child({ module: 'rotation' }));
      const auth = opts.auth ?? 'keys';
      if (auth === 'off')
        log.warn(
          'auth is off: anyone who reaches this service can post results, download a dump of the map, rotate results away and read every query route (--auth keys to require keys)',
        );
      const gate = roleGate(pool, auth, log);
      const jobs = (opts.jobs ?? []).map((j) => j(pool));
      const apis = (opts.adminApis ?? []).map((a) => ({ paths: a.paths, router: a.router({ pool }) }));
      return {
        // Everything but /results is for operators, on the health port as on the main one.
        guards(app) {
          app.post('/results', gate('worker'));
          app.use(['/dump', '/rotate', '/stats', '/recent', ...apis.flatMap((a) => a.paths)], gate('admin'));
        },
        routes(app) {
          resultsRoutes(app, { pool, followUps: opts.ingest, metrics: m, onHops });
          queryRoutes(app, { pool });
          for (const a of apis) app.use(a.router);
          dumpRoute(app, { pool, databaseUrl, log, pgDump: opts.pgDump });
          app.post('/rotate', async (_req, res) => {
            res.json(await rotate());
          });
        },
        healthRoutes(app) {
          queryRoutes(app, { pool });
          for (const a of apis) app.use(a.router);
        },
        // graphile-worker runs each cron tick once across all instances; the advisory lock covers POST /rotate.
        tasks: {
          rotate_results: async () => void (await rotate()),
          ...Object.fromEntries(jobs.flatMap((j) => Object.entries(j.tasks))),
          ...resultsPerMinuteTasks(pool),
        },
        crontab: ['7 * * * * rotate_results ?max=1', ...jobs.flatMap((j) => j.crontab), ...resultsPerMinuteCrontab],
      };
    },
  };
}
