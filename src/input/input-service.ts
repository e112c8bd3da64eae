import type { Logger } from '../log/create-logger.js';
import { roleGate, type AuthMode } from '../keys/require-role.js';
import type { ServiceModule } from '../service/start-service.js';
import { importExclusionFile } from '../targets/exclusions.js';
import { importTargets } from '../targets/import-targets.js';
import type { Block } from '../net/ip-address.js';
import { sweepLeases } from '../targets/sweep-leases.js';
import { TargetPolicy } from '../targets/target-policy.js';
import { adminRoutes } from './admin-routes.js';
import { hopsRoutes } from './hops-routes.js';
import { inputMetrics } from './input-metrics.js';
import { serveTargetsRoutes, type ServeOptions } from './serve-targets-routes.js';

export interface InputOptions extends ServeOptions {
  ipv6: boolean;
  allow: Block[];
  /** Target files or a directory of them, imported (idempotently) at start. */
  targets?: string | undefined;
  /** A do-not-probe file, merged into the list at start. */
  exclude?: string | undefined;
  /** `keys` (the default): every route but the monitoring ones needs a key of its role; `off`: a private network. */
  auth?: AuthMode | undefined;
}

export const DEFAULT_INPUT_PORT = 8080;

/** The target feeder: serves interleaved, leased targets per consumer from the shared tables. */
export function inputService(opts: InputOptions): ServiceModule {
  return {
    type: 'input',
    capabilities: ['targets', 'leases', 'hops', 'exclusions', 'export', ...(opts.ipv6 ? ['ipv6'] : [])],
    async build({ pool, log, metrics }) {
      await loadAtStart(pool, opts, log.child({ module: 'targets' }));
      const policy = new TargetPolicy({ ipv6: opts.ipv6, allow: opts.allow });
      const m = inputMetrics(metrics);
      const auth = opts.auth ?? 'keys';
      if (auth === 'off')
        log.warn(
          "auth is off: anyone who reaches this service can lease any consumer's targets, add hops, change the do-not-probe list and replace consumer state (--auth keys to require keys)",
        );
      const gate = roleGate(pool, auth, log);
      return {
        guards(app) {
          app.get(['/', '/targets'], gate('worker'));
          app.post('/hops', gate('feeder'));
          app.use(['/status', '/export', '/import', '/exclusions'], gate('admin'));
        },
        routes(app) {
          serveTargetsRoutes(app, { pool, policy, metrics: m, opts });
          hopsRoutes(app, { pool, metrics: m });
          adminRoutes(app, { pool });
        },
        tasks: { sweep_leases: sweepLeases },
        crontab: ['* * * * * sweep_leases ?max=1'],
      };
    },
  };
}

async function loadAtStart(pool: Parameters<typeof importTargets>[0], opts: InputOptions, log: Logger): Promise<void> {
  if (opts.targets) {
    const s = await importTargets(pool, opts.targets);
    for (const line of s.errors.slice(0, 20)) log.warn(line);
    log.info(
      {
        files: s.files,
        unchanged: s.unchanged,
        blocks: s.blocks,
        added: s.added,
        removed: s.removed,
        addresses: s.addresses,
        skipped: s.skipped,
      },
      `targets loaded from ${opts.targets}`,
    );
  }
  if (opts.exclude) {
    const e = await importExclusionFile(pool, opts.exclude);
    for (const line of e.errors) log.warn(line);
    log.info({ added: e.added }, `do-not-probe list merged from ${opts.exclude}`);
  }
}
