import { createWriteStream } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Pool, PoolClient } from '../db/create-pool.js';
import { inTransaction } from '../db/in-transaction.js';
import { int8 } from '../db/int8.js';
import type { Logger } from '../log/create-logger.js';
import { ensurePartitionsAhead } from './partitions.js';
import { forgetResultsPerMinuteThrough } from './results-per-minute.js';

/** Held (per transaction) while rotating: one instance rotates at a time, whoever asks. */
const ROTATE_LOCK_KEY = 727_101_5001;

export interface RotationPolicy {
  /** Retire daily partitions older than this many days. */
  retentionDays?: number | undefined;
  /** Keep at most this many daily partitions (today's included). */
  keep?: number | undefined;
  /** Retire the oldest partitions while results take more than this. */
  maxSizeMb?: number | undefined;
  /** Write each retired partition there as NDJSON (gzip-free, one result per line) before dropping it. */
  archiveDir?: string | undefined;
  /** Days of partitions to create ahead. */
  daysAhead?: number;
}

export interface RotationOutcome {
  ran: boolean;
  created: number;
  retired: Array<{ partition: string; rows: number; bytes: number; reason: string; archive?: string }>;
  keptBytes: number;
}

interface PartitionRow {
  name: string;
  day: string;
  bytes: string;
}

/**
 * Rotation: creates partitions ahead, then retires whole days, oldest first, by age, by count and by size,
 * never today's. A retired partition is detached and dropped, after being archived if `archiveDir` is set;
 * with no limit configured, nothing is ever deleted. Runs under an advisory lock: a second instance asking at
 * the same time gets `ran: false`.
 */
export function rotateResults(pool: Pool, policy: RotationPolicy, log: Logger): Promise<RotationOutcome> {
  return inTransaction(pool, async (client) => {
    const lock = await client.query<{ ok: boolean }>('select pg_try_advisory_xact_lock($1) as ok', [ROTATE_LOCK_KEY]);
    if (!lock.rows[0]?.ok) return { ran: false, created: 0, retired: [], keptBytes: 0 };
    const created = await ensurePartitionsAhead(client, policy.daysAhead ?? 2);
    const { rows } = await client.query<PartitionRow>(
      `select c.relname as name, to_char(to_date(substr(c.relname, 9), 'YYYYMMDD'), 'YYYY-MM-DD') as day, pg_total_relation_size(c.oid) as bytes
         from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'measurements.results'::regclass and c.relname ~ '^results_[0-9]{8}$'
        order by c.relname`,
    );
    const today = new Date().toISOString().slice(0, 10);
    const past = rows.filter((p) => p.day < today);
    const toRetire = new Map<string, string>();
    if (policy.retentionDays !== undefined) {
      const cutoff = new Date(Date.now() - policy.retentionDays * 86_400_000).toISOString().slice(0, 10);
      for (const p of past) if (p.day < cutoff) toRetire.set(p.name, `older than ${policy.retentionDays} days`);
    }
    const upToToday = rows.filter((p) => p.day <= today);
    if (policy.keep !== undefined && upToToday.length > policy.keep) {
      for (const p of past.slice(0, upToToday.length - policy.keep))
        if (!toRetire.has(p.name)) toRetire.set(p.name, `more than ${policy.keep} partitions`);
    }
    if (policy.maxSizeMb !== undefined) {
      let total =
        rows.reduce((n, p) => n + int8(p.bytes), 0) -
        past.filter((p) => toRetire.has(p.name)).reduce((n, p) => n + int8(p.bytes), 0);
      for (const p of past) {
        if (total <= policy.maxSizeMb * 1024 * 1024) break;
        if (toRetire.has(p.name)) continue;
        toRetire.set(p.name, `results above ${policy.maxSizeMb} MB`);
        total -= int8(p.bytes);
      }
    }
    const retired: RotationOutcome['retired'] = [];
    for (const p of past.filter((x) => toRetire.has(x.name))) {
      const archive = policy.archiveDir ? await archivePartition(client, p.name, policy.archiveDir) : undefined;
      const count = await client.query<{ n: number }>(`select count(*)::int as n from measurements.${p.name}`);
      await client.query(`alter table measurements.results detach partition measurements.${p.name}`);
      await client.query(`drop table measurements.${p.name}`);
      retired.push({
        partition: p.name,
        rows: count.rows[0]!.n,
        bytes: int8(p.bytes),
        reason: toRetire.get(p.name)!,
        ...(archive ? { archive } : {}),
      });
      log.info({ partition: p.name, reason: toRetire.get(p.name), archive }, 'results partition retired');
    }
    if (retired.length > 0) {
      await forgetResultsPerMinuteThrough(client, past.filter((p) => toRetire.has(p.name)).at(-1)!.day); // else /stats would still count them
      // Ids older than every partition left can go too: those results are gone, so is their idempotency.
      await client.query(
        `delete from result_ids where received_at < coalesce((select min(to_date(substr(c.relname, 9), 'YYYYMMDD'))
           from pg_inherits i join pg_class c on c.oid = i.inhrelid
          where i.inhparent = 'measurements.results'::regclass and c.relname ~ '^results_[0-9]{8}$'), now())`,
      );
    }
    const keptBytes = rows.filter((p) => !toRetire.has(p.name)).reduce((n, p) => n + int8(p.bytes), 0);
    return { ran: true, created, retired, keptBytes };
  });
}

/** Writes a partition's results as NDJSON, via a cursor (bounded memory), then renames it into place. */
async function archivePartition(client: PoolClient, partition: string, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${partition}.ndjson`);
  const out = createWriteStream(`${path}.partial`);
  await client.query(
    `declare archive_cursor no scroll cursor for select body from measurements.${partition} order by received_at`,
  );
  for (;;) {
    const { rows } = await client.query<{ body: unknown }>('fetch 5000 from archive_cursor');
    if (rows.length === 0) break;
    if (!out.write(rows.map((r) => JSON.stringify(r.body)).join('\n') + '\n'))
      await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await client.query('close archive_cursor');
  out.end();
  await finished(out);
  // On disk before the partition is dropped: an archive is the only copy left.
  const fh = await open(`${path}.partial`, 'r+');
  await fh.sync();
  await fh.close();
  await rename(`${path}.partial`, path);
  return path;
}
