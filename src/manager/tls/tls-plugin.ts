import type { Pool } from '../../db/create-pool.js';
import type { Logger } from '../../log/create-logger.js';
import type { ManagerPluginFactory } from '../manager-plugin.js';
import { acmeChallengeHandler } from './acme-challenge-handler.js';
import { certificateJobs } from './renew-certificate-task.js';
import type { Sealer } from './sealer.js';
import type { TlsSource } from './tls-config.js';

/** ACME challenges answered by any instance (on the HTTPS port too) and the certificate renewal cron job. */
export const tlsPlugin =
  (opts: { pool: Pool; sealer: Sealer; source: TlsSource; log: Logger }): ManagerPluginFactory =>
  () => ({
    publicRoutes(app) {
      app.get('/.well-known/acme-challenge/:token', acmeChallengeHandler(opts.pool));
    },
    ...certificateJobs(opts),
  });
