import type { TaskList } from 'graphile-worker';
import type { Pool } from '../../db/create-pool.js';
import type { Logger } from '../../log/create-logger.js';
import { currentCertificate } from './certificate-store.js';
import { ensureSelfSignedCertificate, RENEW_BEFORE_DAYS } from './ensure-self-signed-certificate.js';
import { issueAcmeCertificate } from './issue-acme-certificate.js';
import type { Sealer } from './sealer.js';
import type { TlsSource } from './tls-config.js';

export const RENEW_CERTIFICATE_TASK = 'renew_tls_certificate';
/** One queue: graphile-worker runs its jobs one at a time cluster-wide, so two renewals never overlap. */
const QUEUE = 'hopmap_tls';
/**
 * Twice a day, off the round hour (Let's Encrypt asks clients to spread their load), with 12 h of backfill
 * so a cluster that was down at that minute still checks when it comes back.
 */
export const RENEW_CERTIFICATE_CRONTAB = [`37 3,15 * * * ${RENEW_CERTIFICATE_TASK} ?max=5&queue=${QUEUE}&fill=12h`];

const DAY_MS = 86_400_000;

export type RenewalOutcome = 'renewed' | 'still-valid' | 'not-renewable';

/** Renews the configured certificate when fewer than 30 days remain (or none is stored yet). */
export async function renewCertificateIfDue(
  pool: Pool,
  sealer: Sealer,
  source: TlsSource,
  log: Logger,
  now = new Date(),
): Promise<RenewalOutcome> {
  if (source.kind === 'self-signed') {
    const before = await currentCertificate(pool, sealer, source.domain, 'self-signed');
    const after = await ensureSelfSignedCertificate(pool, sealer, source.domain, { now });
    return before?.id === after.id ? 'still-valid' : 'renewed';
  }
  if (source.kind !== 'acme') return 'not-renewable';
  const stored = await currentCertificate(pool, sealer, source.acme.domain, 'acme');
  const left = stored?.source === 'acme' ? stored.notAfter.getTime() - now.getTime() : -Infinity;
  if (left > RENEW_BEFORE_DAYS * DAY_MS) {
    log.debug({ domain: source.acme.domain, daysLeft: Math.floor(left / DAY_MS) }, 'certificate still valid');
    return 'still-valid';
  }
  await issueAcmeCertificate(pool, sealer, source.acme, log);
  return 'renewed';
}

export interface CertificateJobsOptions {
  pool: Pool;
  sealer: Sealer;
  source: TlsSource;
  log: Logger;
  /** The clock the renewal decision uses (tests move it towards expiry). */
  now?: () => Date;
}

/** The renewal task and its schedule, for the manager's ServiceParts; nothing for file or plain-HTTP sources. */
export function certificateJobs(opts: CertificateJobsOptions): { tasks: TaskList; crontab: string[] } {
  if (opts.source.kind !== 'acme' && opts.source.kind !== 'self-signed') return { tasks: {}, crontab: [] };
  const log = opts.log.child({ module: 'tls' });
  return {
    tasks: {
      [RENEW_CERTIFICATE_TASK]: async () => {
        const outcome = await renewCertificateIfDue(
          opts.pool,
          opts.sealer,
          opts.source,
          log,
          opts.now?.() ?? new Date(),
        );
        if (outcome === 'renewed') log.info('certificate renewed; every instance picks it up at its next poll');
      },
    },
    crontab: RENEW_CERTIFICATE_CRONTAB,
  };
}

/**
 * Asks for a renewal check now (at start, when no ACME certificate is stored yet). The job key makes
 * instances that start together add one job, not one each.
 */
export async function requestCertificateRenewal(pool: Pool): Promise<void> {
  await pool.query(
    `select graphile_worker.add_job($1, '{}'::json, queue_name => $2, job_key => $1, max_attempts => 5)`,
    [RENEW_CERTIFICATE_TASK, QUEUE],
  );
}
