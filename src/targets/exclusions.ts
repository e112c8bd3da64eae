import type { Pool } from '../db/create-pool.js';
import { readTargetFile } from './read-target-file.js';

export interface Exclusion {
  cidr: string;
  reason: string;
  added_at: Date;
}

export async function listExclusions(pool: Pool): Promise<Exclusion[]> {
  const { rows } = await pool.query<Exclusion>(
    'select cidr::text as cidr, reason, added_at from target_exclusions order by cidr',
  );
  return rows;
}

/** Adds do-not-probe ranges (validated CIDRs); an existing entry keeps its first reason. Returns how many were new. */
export async function addExclusions(pool: Pool, entries: Array<{ cidr: string; reason: string }>): Promise<number> {
  if (entries.length === 0) return 0;
  const { rowCount } = await pool.query(
    `insert into target_exclusions (cidr, reason) select c, r from unnest($1::cidr[], $2::text[]) as t(c, r) on conflict (cidr) do nothing`,
    [entries.map((e) => e.cidr), entries.map((e) => e.reason)],
  );
  return rowCount ?? 0;
}

export async function removeExclusion(pool: Pool, cidr: string): Promise<boolean> {
  const { rowCount } = await pool.query('delete from target_exclusions where cidr = $1::cidr', [cidr]);
  return (rowCount ?? 0) > 0;
}

/** `--exclude FILE`: the same format as target files; every line joins the do-not-probe list. */
export async function importExclusionFile(pool: Pool, path: string): Promise<{ added: number; errors: string[] }> {
  const file = await readTargetFile(path);
  const added = await addExclusions(
    pool,
    file.blocks.map((l) => ({ cidr: l.block.cidr, reason: `${file.source}:${l.line}` })),
  );
  return { added, errors: file.errors };
}
