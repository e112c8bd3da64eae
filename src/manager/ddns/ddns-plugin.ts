import type { ManagerPluginFactory } from '../manager-plugin.js';
import { ddnsJobs } from './ddns-jobs.js';
import type { DyfiAccount } from './dyfi-update.js';

/** Keeps the dy.fi name on a live instance: one cron job a minute across all instances (docs/manager.md#dynamic-dns-with-dyfi). */
export const ddnsPlugin =
  (opts: { dyfi: DyfiAccount; selfUrl: () => string }): ManagerPluginFactory =>
  (ctx) =>
    ddnsJobs({
      pool: ctx.pool,
      instanceId: ctx.identity.instanceId,
      selfUrl: opts.selfUrl(),
      dyfi: opts.dyfi,
      log: ctx.log.child({ module: 'ddns' }),
    });
