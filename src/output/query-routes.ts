import type { Express } from 'express';
import { z } from 'zod';
import type { Pool } from '../db/create-pool.js';
import { parseRequest } from '../http/validate.js';
import { parseAddress } from '../targets/ip-address.js';

const recentQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
  ip: z.string().refine((s) => parseAddress(s) !== null, 'not an IPv4 or IPv6 address').optional(),
});

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
        ? await pool.query<{ body: unknown }>(`select body from measurements.results order by received_at desc limit $1`, [q.limit])
        : await pool.query<{ body: unknown }>(`select body from measurements.results where target = $1::inet order by received_at desc limit $2`, [q.ip, q.limit]);
    res.json({ results: rows.map((r) => r.body) });
  });

  app.get('/stats', async (_req, res) => {
    const [byHour, known, rate, partitions] = await Promise.all([
      pool.query(
        `select date_trunc('hour', received_at) as hour, type, count(*)::int as results
           from measurements.results where received_at > now() - interval '24 hours' group by 1, 2 order by 1 desc, 2`,
      ),
      pool.query(`select (select count(*) from hops)::int as hops, (select count(*) from links)::int as links, (select count(*) from result_ids)::int as results`),
      pool.query(`select count(*)::float8 / 60 as per_second from measurements.results where received_at > now() - interval '1 minute'`),
      pool.query(
        `select c.relname as partition, pg_get_expr(c.relpartbound, c.oid) as bounds, pg_total_relation_size(c.oid)::bigint as bytes
           from pg_inherits i join pg_class c on c.oid = i.inhrelid
          where i.inhparent = 'measurements.results'::regclass order by c.relname`,
      ),
    ]);
    res.json({ results_by_hour: byHour.rows, known: known.rows[0], ingest_per_second_last_minute: rate.rows[0].per_second, partitions: partitions.rows });
  });
}
