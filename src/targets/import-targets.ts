import { inTransaction } from '../db/in-transaction.js';
import type { Pool, PoolClient } from '../db/create-pool.js';
import { blockWalkSize } from './block-permutation.js';
import { hashInt32 } from '../net/hash32.js';
import { listTargetFiles, readTargetFile, type TargetFile } from './read-target-file.js';
import { refreshEffectiveBlocks } from './refresh-effective-blocks.js';

/** Serialises imports from any number of instances (`hopmap input --targets` at start, `hopmap targets import`). */
const IMPORT_LOCK_KEY = 727_101_3001;

export interface ImportSummary {
  files: number;
  unchanged: number;
  blocks: number;
  added: number;
  removed: number;
  /** Addresses in the loaded blocks (IPv6 counted by walk positions). */
  addresses: number;
  skipped: number;
  duplicates: number;
  errors: string[];
}

export type ImportProgress = (done: number, total: number, file: string) => void;

/**
 * Loads target files idempotently: an unchanged file (same SHA-256) is skipped; a changed one is
 * reconciled, so lines removed from it stop being served and lines added start. One transaction.
 */
export async function importTargets(pool: Pool, path: string, onProgress?: ImportProgress): Promise<ImportSummary> {
  const paths = await listTargetFiles(path);
  const summary: ImportSummary = {
    files: paths.length,
    unchanged: 0,
    blocks: 0,
    added: 0,
    removed: 0,
    addresses: 0,
    skipped: 0,
    duplicates: 0,
    errors: [],
  };
  await inTransaction(pool, async (client) => {
    await client.query('select pg_advisory_xact_lock($1)', [IMPORT_LOCK_KEY]);
    for (const [i, p] of paths.entries()) {
      const file = await readTargetFile(p);
      summary.blocks += file.blocks.length;
      summary.addresses += file.blocks.reduce((n, l) => n + blockWalkSize(l.block), 0);
      summary.skipped += file.errors.length;
      summary.duplicates += file.duplicates;
      summary.errors.push(...file.errors);
      const changed = await reconcileFile(client, file);
      if (changed) {
        summary.added += changed.added;
        summary.removed += changed.removed;
      } else summary.unchanged++;
      onProgress?.(i + 1, paths.length, file.source);
    }
    if (summary.unchanged < paths.length) await refreshEffectiveBlocks(client);
  });
  return summary;
}

async function reconcileFile(
  client: PoolClient,
  file: TargetFile,
): Promise<{ added: number; removed: number } | undefined> {
  const known = await client.query<{ sha256: string }>('select sha256 from target_sources where source = $1', [
    file.source,
  ]);
  if (known.rows[0]?.sha256 === file.sha256) return undefined;

  const cidrs = file.blocks.map((l) => l.block.cidr);
  const upserted = await client.query<{ inserted: boolean; was_active: boolean }>(
    `insert into target_blocks (source, line, cidr, family, walk_size, shuffle_key, active, effective)
     select $1, l, c, f, w, k, true, false from unnest($2::int[], $3::cidr[], $4::smallint[], $5::bigint[], $6::int[]) as t(l, c, f, w, k)
     on conflict (source, cidr) do update set line = excluded.line, active = true, removed_at = null
     returning (xmax = 0) as inserted, true as was_active`,
    [
      file.source,
      file.blocks.map((l) => l.line),
      cidrs,
      file.blocks.map((l) => l.block.family),
      file.blocks.map((l) => blockWalkSize(l.block)),
      cidrs.map((c) => hashInt32(c)),
    ],
  );
  const removed = await client.query(
    `update target_blocks set active = false, effective = false, removed_at = now()
      where source = $1 and active and not (cidr = any($2::cidr[]))`,
    [file.source, cidrs],
  );
  await client.query(
    `insert into target_sources (source, sha256, lines, blocks, skipped) values ($1, $2, $3, $4, $5)
     on conflict (source) do update set sha256 = excluded.sha256, lines = excluded.lines, blocks = excluded.blocks,
       skipped = excluded.skipped, imported_at = now()`,
    [file.source, file.sha256, file.lines, file.blocks.length, file.errors.length],
  );
  return { added: upserted.rows.filter((r) => r.inserted).length, removed: removed.rowCount ?? 0 };
}
