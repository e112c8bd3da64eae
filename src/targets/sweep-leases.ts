import type { Task } from 'graphile-worker';

/** How long closed leases are kept for inspection before they are deleted. */
const CLOSED_LEASE_RETENTION = '1 day';

/**
 * Cron, once a minute across all instances: closes expired leases whose targets were all acknowledged
 * in the meantime, reports how many still wait for their consumer to come back (they are re-served to it
 * before new work), and deletes closed leases, and set-aside targets of passes that ended, past retention.
 */
export const sweepLeases: Task = async (_payload, helpers) => {
  const closed = await helpers.query(
    `update leases set state = 'done', closed_at = now()
      where id in (select id from leases where state = 'open' and expires_at < now() and targets <@ acked for update skip locked)`,
  );
  const waiting = await helpers.query<{ n: number }>(
    `select count(*)::int as n from leases where state = 'open' and expires_at < now()`,
  );
  const deleted = await helpers.query(
    `delete from leases where state <> 'open' and closed_at < now() - interval '${CLOSED_LEASE_RETENTION}'`,
  );
  // A pass before the current one ended when the current one started.
  const forgotten = await helpers.query(
    `delete from set_aside_targets s using consumers c
      where c.id = s.consumer_id and s.pass < c.pass and c.pass_started_at < now() - interval '${CLOSED_LEASE_RETENTION}'`,
  );
  const n = waiting.rows[0]?.n ?? 0;
  if (closed.rowCount || deleted.rowCount || n || forgotten.rowCount) {
    helpers.logger.info(
      `leases: ${closed.rowCount} expired and fully acknowledged closed, ${n} expired awaiting re-serve, ${deleted.rowCount} old deleted, ${forgotten.rowCount} set-aside targets of old passes deleted`,
    );
  }
};
