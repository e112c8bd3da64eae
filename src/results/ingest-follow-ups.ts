import type { PoolClient } from '../db/create-pool.js';
import type { Result } from './result-schema.js';

/**
 * What storing a batch of results does beyond results, links and routes, in the batch's transaction and on its
 * client: the capabilities that own these tables (targets, aliases) provide them, and the process that composes
 * ingest passes them in (src/cli/output-wiring.ts), so results imports neither.
 */
export interface IngestFollowUps {
  /** Acknowledges the leased targets the fresh results answered (targets/ack-leases.ts). */
  ackLeases(client: PoolClient, acks: Array<{ lease: string; target: string }>): Promise<unknown>;
  /** Adds hops to the target pool; how many were new (targets/add-hops.ts). */
  addHops(client: PoolClient, hops: string[]): Promise<{ added: number }>;
  /** Stores the alias evidence of the results stored for the first time (aliases/store-alias-evidence.ts). */
  storeAliasEvidence(client: PoolClient, fresh: readonly Result[]): Promise<unknown>;
}
