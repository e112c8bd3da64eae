import { Gauge } from 'prom-client';
import type { Pool } from '../db/create-pool.js';
import type { ServiceMetrics } from '../http/service-metrics.js';

/**
 * The pool's connections by state and graphile-worker's backlog, read when /metrics is scraped
 * (deploy/grafana/hopmap-dashboard.json). The backlog is the database's, the same from every instance.
 */
export function registerDatabaseMetrics(metrics: ServiceMetrics, pool: Pool): void {
  new Gauge({
    name: 'hopmap_db_pool_connections',
    help: 'database pool connections: open (total), idle, and queries waiting for one (waiting)',
    labelNames: ['state'],
    registers: [metrics.registry],
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
  new Gauge({
    name: 'hopmap_jobs_queued',
    help: 'background jobs due and not yet taken by any instance (graphile-worker)',
    registers: [metrics.registry],
    async collect() {
      // A scrape while the database is away keeps the last value rather than failing /metrics.
      const { rows } = await pool
        .query<{ n: number }>(
          'SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE locked_at IS NULL AND run_at <= now()',
        )
        .catch(() => ({ rows: [] }));
      if (rows[0]) this.set(rows[0].n);
    },
  });
}
