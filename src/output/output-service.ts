import { roleGate, type AuthMode } from '../keys/require-role.js';
import { inTransaction } from '../db/in-transaction.js';
import { ensurePartitionsAhead } from '../results/partitions.js';
import { resultsPerMinuteCrontab, resultsPerMinuteTasks } from '../results/results-per-minute.js';
import { rotateResults, type RotationPolicy } from '../results/rotate-results.js';
import type { ServiceModule } from '../service/start-service.js';
import { dumpRoute } from './dump-route.js';
import { forwardHops } from './forward-hops.js';
import { crontab as enrichCrontab, tasks as enrichTasks } from '../map/enrich/index.js';
import { resolveRoutersCrontab, resolveRoutersTasks } from '../aliases/resolve-routers-task.js';
import { rebuildAsLinksCrontab, rebuildAsLinksTasks } from '../map/graph/rebuild-as-links-task.js';
import { outputMetrics } from './output-metrics.js';
import { queryRoutes } from './query-routes.js';
import { resultsRoutes } from './results-routes.js';
import { routeHistoryRoutes } from './route-history-routes.js';

export const DEFAULT_OUTPUT_PORT = 8081;
/** The original system's separate health port: /health, /ready, /metrics, /service-info, /stats, /recent. */
export const DEFAULT_OUTPUT_HEALTH_PORT = 8091;

export interface OutputOptions {
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
export function outputService(opts: OutputOptions = {}): ServiceModule {
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
      return {
        // Everything but /results is for operators, on the health port as on the main one.
        guards(app) {
          app.post('/results', gate('worker'));
          app.use(['/dump', '/rotate', '/stats', '/recent', '/routes'], gate('admin'));
        },
        routes(app) {
          resultsRoutes(app, { pool, metrics: m, onHops });
          queryRoutes(app, { pool });
          routeHistoryRoutes(app, { pool });
          dumpRoute(app, { pool, databaseUrl, log, pgDump: opts.pgDump });
          app.post('/rotate', async (_req, res) => {
            res.json(await rotate());
          });
        },
        healthRoutes(app) {
          queryRoutes(app, { pool });
          routeHistoryRoutes(app, { pool });
        },
        // graphile-worker runs each cron tick once across all instances; the advisory lock covers POST /rotate.
        tasks: {
          rotate_results: async () => void (await rotate()),
          ...enrichTasks,
          ...resolveRoutersTasks(pool),
          ...rebuildAsLinksTasks,
          ...resultsPerMinuteTasks(pool),
        },
        crontab: [
          '7 * * * * rotate_results ?max=1',
          ...enrichCrontab,
          ...resolveRoutersCrontab,
          ...rebuildAsLinksCrontab,
          ...resultsPerMinuteCrontab,
        ],
      };
    },
  };
}
