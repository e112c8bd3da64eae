import { aliasJobs } from '../aliases/alias-jobs.js';
import { storeAliasEvidence } from '../aliases/store-alias-evidence.js';
import { mapJobs } from '../map/map-jobs.js';
import { routeHistoryApi } from '../map/api/route-history-routes.js';
import type { OutputOptions } from '../output/output-service.js';
import type { IngestFollowUps } from '../results/ingest-follow-ups.js';
import { ackLeaseTargets } from '../targets/ack-leases.js';
import { addHops } from '../targets/add-hops.js';

/**
 * What storing a batch of results does beyond results, in the batch's transaction: targets acknowledge the
 * leases the results answer and take their hops into the pool, aliases keep the evidence of alias results.
 * For `hopmap output` (through `outputWiring`) and `hopmap merge`.
 */
export const ingestFollowUps: IngestFollowUps = { ackLeases: ackLeaseTargets, addHops, storeAliasEvidence };

/**
 * What `hopmap output` runs of other capabilities, composed here so that results, output, targets, aliases and
 * the map import none of each other for it: ingest's follow-ups, the map's and the aliases' jobs (only the output
 * service runs them: graphile-worker runs each cron tick once across its instances), and the map's route-history
 * API for admin keys (with output's older /routes/* paths).
 */
export const outputWiring = {
  ingest: ingestFollowUps,
  jobs: [mapJobs, aliasJobs],
  adminApis: [routeHistoryApi],
} satisfies Pick<OutputOptions, 'ingest' | 'jobs' | 'adminApis'>;
