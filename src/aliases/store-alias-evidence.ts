import type { PoolClient } from '../db/create-pool.js';
import type { AliasResult, Result } from '../results/result-schema.js';
import { parseAddress } from '../net/ip-address.js';
import { aliasEvidence } from './alias-evidence.js';
import type { AliasEvidence } from './alias-evidence-types.js';

export interface EvidenceObservation {
  evidence: AliasEvidence;
  worker: string;
  seenAt: string;
}

/** The evidence of the batch's fresh `alias` results (other types carry none). */
export function evidenceOf(fresh: readonly Result[]): EvidenceObservation[] {
  return fresh
    .filter((r): r is AliasResult => r.type === 'alias')
    .flatMap((r) => aliasEvidence(r).map((evidence) => ({ evidence, worker: r.worker, seenAt: r.finished_at })));
}

/** Called inside storeResults' transaction with the results stored for the first time, so a re-post adds nothing. */
export function storeAliasEvidence(client: PoolClient, fresh: readonly Result[]): Promise<number> {
  return upsertAliasEvidence(client, evidenceOf(fresh));
}

/**
 * One statement per batch: the observations are ordered into (least, greatest) pairs and grouped by PostgreSQL
 * itself (so `a < b` holds however an address was spelled, and no row is hit twice by one upsert), then
 * added to the counts of each (a, b, method) row, its seen times widened and its worker list merged. Rows
 * go in pair order, so two instances upserting overlapping pairs lock them in the same order (no deadlock).
 * An address the result schema let through but inet cannot parse is dropped here rather than failing the batch.
 */
export async function upsertAliasEvidence(
  client: PoolClient,
  observations: readonly EvidenceObservation[],
): Promise<number> {
  const ok = observations.filter((o) => parseAddress(o.evidence.a) && parseAddress(o.evidence.b));
  if (ok.length === 0) return 0;
  const { rowCount } = await client.query(
    `insert into alias_evidence (a, b, method, alias_count, distinct_count, first_seen_at, last_seen_at, workers)
     select least(x, y), greatest(x, y), method,
            count(*) filter (where verdict = 'alias'), count(*) filter (where verdict = 'distinct'),
            min(seen_at), max(seen_at), array_agg(distinct worker order by worker)
       from unnest($1::inet[], $2::inet[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) as u(x, y, method, verdict, worker, seen_at)
      where x <> y
      group by 1, 2, 3
      order by 1, 2, 3
     on conflict (a, b, method) do update set
       alias_count = alias_evidence.alias_count + excluded.alias_count,
       distinct_count = alias_evidence.distinct_count + excluded.distinct_count,
       first_seen_at = least(alias_evidence.first_seen_at, excluded.first_seen_at),
       last_seen_at = greatest(alias_evidence.last_seen_at, excluded.last_seen_at),
       workers = array(select distinct w from unnest(alias_evidence.workers || excluded.workers) w order by w)`,
    [
      ok.map((o) => o.evidence.a),
      ok.map((o) => o.evidence.b),
      ok.map((o) => o.evidence.method),
      ok.map((o) => o.evidence.verdict),
      ok.map((o) => o.worker),
      ok.map((o) => o.seenAt),
    ],
  );
  return rowCount ?? 0;
}
