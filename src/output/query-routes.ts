import type { Express } from 'express';
import { z } from 'zod';
import type { Pool } from '../db/create-pool.js';
import { parseRequest } from '../http/validate.js';
import { resultsByHour } from '../results/results-per-minute.js';
import { parseAddress } from '../net/ip-address.js';

const recentQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
  ip: z
    .string()
    .refine((s) => parseAddress(s) !== null, 'not an IPv4 or IPv6 address')
    .optional(),
});

/** Tables counted exactly up to this many rows; above it, estimated. */
const EXACT_COUNT_MAX = 100_000;

interface KnownRow {
  hops: number;
  links: number;
  results: number;
  hops_estimated: boolean;
  links_estimated: boolean;
  results_estimated: boolean;
}

/**
 * Rows of hops, links and result_ids: `count(*)` reads the whole table (113 ms for the three at 10^6 results,
 * linear), so above EXACT_COUNT_MAX rows the planner's rows per page, from the last analyse, times the pages the
 * table has now. A table never analysed (reltuples < 0, or no pages then) is counted: autovacuum analyses a table
 * soon after it grows. A CASE evaluates its scalar subquery only when taken, so a large table is never scanned.
 */
const KNOWN_SQL = `
  with e as (
    select c.relname, case when c.reltuples >= 0 and c.relpages > 0
             then c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::int) end as n
      from pg_class c where c.oid in ('public.hops'::regclass, 'public.links'::regclass, 'public.result_ids'::regclass)
  ), h as (select n from e where relname = 'hops'), l as (select n from e where relname = 'links'), r as (select n from e where relname = 'result_ids')
  select case when h.n > ${EXACT_COUNT_MAX} then round(h.n) else (select count(*) from hops) end::float8 as hops,
         case when l.n > ${EXACT_COUNT_MAX} then round(l.n) else (select count(*) from links) end::float8 as links,
         case when r.n > ${EXACT_COUNT_MAX} then round(r.n) else (select count(*) from result_ids) end::float8 as results,
         coalesce(h.n > ${EXACT_COUNT_MAX}, false) as hops_estimated,
         coalesce(l.n > ${EXACT_COUNT_MAX}, false) as links_estimated,
         coalesce(r.n > ${EXACT_COUNT_MAX}, false) as results_estimated
    from h, l, r`;

/** /recent (the latest results, optionally for one target) and /stats (what is stored, and how fast). */
export function queryRoutes(app: Express, deps: { pool: Pool }): void {
  const { pool } = deps;

  app.get('/recent', async (req, res) => {
    const q = parseRequest(recentQuery, req.query, 'query');
    // Two statements, not `($1 is null or target = $1)`: that generic form cannot use results_target_idx, so
    // the planner walked every partition's received_at index filtering on the target (744 ms at 10^6
    // results, docs/scaling.md); with the target fixed it reads the newest rows of that target directly.
    const { rows } =
      q.ip === undefined
        ? await pool.query<{ body: unknown }>(
            `select body from measurements.results order by received_at desc limit $1`,
            [q.limit],
          )
        : await pool.query<{ body: unknown }>(
            `select body from measurements.results where target = $1::inet order by received_at desc limit $2`,
            [q.ip, q.limit],
          );
    res.json({ results: rows.map((r) => r.body) });
  });

  app.get('/stats', async (_req, res) => {
    const [byHour, known, rate, partitions] = await Promise.all([
      resultsByHour(pool),
      pool.query<KnownRow>(KNOWN_SQL),
      pool.query<{ per_second: number }>(
        `select count(*)::float8 / 60 as per_second from measurements.results where received_at > now() - interval '1 minute'`,
      ),
      pool.query(
        `select c.relname as partition, pg_get_expr(c.relpartbound, c.oid) as bounds, pg_total_relation_size(c.oid)::bigint as bytes
           from pg_inherits i join pg_class c on c.oid = i.inhrelid
          where i.inhparent = 'measurements.results'::regclass order by c.relname`,
      ),
    ]);
    const k = known.rows[0]!;
    res.json({
      results_by_hour: byHour,
      known: { hops: k.hops, links: k.links, results: k.results },
      known_estimated: { hops: k.hops_estimated, links: k.links_estimated, results: k.results_estimated },
      ingest_per_second_last_minute: rate.rows[0]!.per_second,
      partitions: partitions.rows,
    });
  });
}
