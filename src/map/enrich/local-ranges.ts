import { createHash } from 'node:crypto';
import type { Pool } from '../../db/create-pool.js';
import { inTransaction } from '../../db/in-transaction.js';
import { int8 } from '../../db/int8.js';
import type { localRanges } from '../../db/schema/enrichment.js';
import type { TableRow } from '../../db/table-row.js';
import type { LocalRange } from './parse-local-ranges.js';

export interface LoadLocalRangesResult {
  /** False when the same ranges were loaded already: nothing was written and nothing is re-enriched. */
  changed: boolean;
  ranges: number;
  /** What enrichment_sources records (the `local-ranges@…` part of the data version), null once cleared. */
  version: string | null;
}

/** Two loads at once (a lab run starting while an operator loads) replace the set one after the other. */
const LOCAL_LOCK_KEY = 727_101_2031;

/** Names the declared set by its content, so loading the same ranges again leaves the data version alone. */
function rangesVersion(ranges: readonly LocalRange[]): string {
  const canonical = [...ranges]
    .sort((a, b) => (a.prefix < b.prefix ? -1 : 1))
    .map((r) => [r.prefix, r.asn, r.org, r.country]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex').slice(0, 16);
}

/**
 * Replaces the declared ranges with `ranges` (the whole set; empty clears it) in one transaction and records the
 * set as the `local` source of enrichment_sources. That changes the data version, so the enrich_hops job looks every
 * hop up again with the new ranges; loading the same set again changes nothing.
 */
export async function loadLocalRanges(pool: Pool, ranges: readonly LocalRange[]): Promise<LoadLocalRangesResult> {
  const version = ranges.length ? rangesVersion(ranges) : null;
  return inTransaction(pool, async (client) => {
    await client.query('select pg_advisory_xact_lock($1)', [LOCAL_LOCK_KEY]);
    const { rows } = await client.query<{ version: string }>(
      `select version from enrichment_sources where source = 'local'`,
    );
    if ((rows[0]?.version ?? null) === version) return { changed: false, ranges: ranges.length, version };
    await client.query('delete from local_ranges');
    if (version === null) {
      await client.query(`delete from enrichment_sources where source = 'local'`);
      return { changed: true, ranges: 0, version };
    }
    await client.query(
      `insert into local_ranges (prefix, asn, org, country)
       select * from unnest($1::cidr[], $2::bigint[], $3::text[], $4::text[])`,
      [ranges.map((r) => r.prefix), ranges.map((r) => r.asn), ranges.map((r) => r.org), ranges.map((r) => r.country)],
    );
    await client.query(
      `insert into enrichment_sources (source, package, version, rows, loaded_at) values ('local', 'local-ranges', $1, $2, now())
       on conflict (source) do update set package = excluded.package, version = excluded.version, rows = excluded.rows, loaded_at = now()`,
      [version, ranges.length],
    );
    await client.query('analyze local_ranges');
    return { changed: true, ranges: ranges.length, version };
  });
}

/** The declared ranges in address order, IPv4 first (`hopmap enrich local --list`). */
export async function listLocalRanges(pool: Pool): Promise<LocalRange[]> {
  const { rows } = await pool.query<TableRow<typeof localRanges>>(
    'select prefix::text as prefix, asn, org, country from local_ranges order by family(prefix), prefix',
  );
  return rows.map((r) => ({ prefix: r.prefix, asn: int8(r.asn), org: r.org, country: r.country }));
}
