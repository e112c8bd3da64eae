import { createReadStream, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { Pool } from '../../db/create-pool.js';
import { inTransaction } from '../../db/in-transaction.js';
import { installedRangeSources, type RangeSource } from './range-sources.js';

export interface LoadRangesResult {
  loaded: Array<{ source: string; package: string; version: string; rows: number }>;
  unchanged: string[];
}

/** Two loaders started at once (every instance at boot, an operator) load one after the other. */
const LOAD_LOCK_KEY = 727_101_2030;

/**
 * Replaces each range table whose recorded package version differs from `sources`, all in one transaction: readers
 * keep seeing the old ranges (MVCC, no table lock as TRUNCATE would take) until the commit shows the new ones.
 * `onProgress` hears the bytes of the files read so far, of all those to load (about 1.2M rows at a first start).
 */
export async function loadRanges(
  pool: Pool,
  sources: RangeSource[] = installedRangeSources(),
  onProgress?: (bytesRead: number, bytesTotal: number) => void,
): Promise<LoadRangesResult> {
  return inTransaction(pool, async (client) => {
    await client.query('select pg_advisory_xact_lock($1)', [LOAD_LOCK_KEY]);
    const { rows: recorded } = await client.query<{ source: string; package: string; version: string }>(
      'select source, package, version from enrichment_sources',
    );
    const result: LoadRangesResult = { loaded: [], unchanged: [] };
    const current = (s: RangeSource) =>
      recorded.some((r) => r.source === s.source && r.package === s.package && r.version === s.version);
    const bytesTotal = sources
      .filter((s) => !current(s))
      .flatMap((s) => s.files)
      .reduce((n, file) => n + statSync(file).size, 0);
    let bytesRead = 0;
    const counted = () =>
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          bytesRead += chunk.length;
          onProgress?.(bytesRead, bytesTotal);
          done(null, chunk);
        },
      });
    for (const s of sources) {
      if (current(s)) {
        result.unchanged.push(s.source);
        continue;
      }
      await client.query(`delete from ${s.table}`);
      let rows = 0;
      for (const file of s.files) {
        const copy = client.query(copyFrom(`copy ${s.table} (${s.columns}) from stdin with (format csv)`));
        await (onProgress ? pipeline(createReadStream(file), counted(), copy) : pipeline(createReadStream(file), copy));
        rows += copy.rowCount ?? 0;
      }
      await client.query(
        `insert into enrichment_sources (source, package, version, rows, loaded_at) values ($1, $2, $3, $4, now())
         on conflict (source) do update set package = excluded.package, version = excluded.version, rows = excluded.rows, loaded_at = now()`,
        [s.source, s.package, s.version, rows],
      );
      await client.query(`analyze ${s.table}`);
      result.loaded.push({ source: s.source, package: s.package, version: s.version, rows });
    }
    return result;
  });
}
