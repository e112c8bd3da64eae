import type { Pool } from '../../db/create-pool.js';
import { inTransaction } from '../../db/in-transaction.js';
import type { ddnsState } from '../../db/schema/manager.js';
import type { TableRow } from '../../db/table-row.js';
import type { Logger } from '../../log/create-logger.js';
import { decideDdnsAction, type DdnsState } from './ddns-decision.js';
import { updateDyfi, type DyfiAccount, type DyfiCode, type FetchLike } from './dyfi-update.js';
import { holderAlive } from './holder-alive.js';

/** Namespace of the per-domain dynamic DNS lock (two-int advisory locks; TLS uses 7271). */
const DDNS_LOCK_SPACE = 7_272;

export interface KeepDdnsNameOptions {
  pool: Pool;
  /** This instance, as recorded when it holds the name. */
  instanceId: string;
  /** Where the other instances reach this one (its /health), e.g. its registered service URL. */
  selfUrl: string;
  dyfi: DyfiAccount;
  fetch?: FetchLike;
  log?: Logger;
  now?: () => Date;
  healthTimeoutMs?: number;
}

export type KeepDdnsNameOutcome =
  | { action: 'none'; reason: string }
  | { action: 'busy' }
  | { action: 'updated'; reason: string; code: DyfiCode; ok: boolean; text: string };

type StateRow = Pick<
  TableRow<typeof ddnsState>,
  'holder_instance' | 'holder_url' | 'last_update_at' | 'last_result' | 'ok'
>;

/**
 * One check of the dy.fi name, run once a minute by whichever instance graphile-worker's cron picks: the
 * holder refreshes per dy.fi's rules; any other instance takes the name over only when the holder's /health
 * stops answering. A per-domain advisory lock makes an overlapping check skip rather than update twice; it is
 * held across the (time-limited) HTTP calls on purpose, since the decision and the update must be one step.
 */
export async function keepDdnsName(opts: KeepDdnsNameOptions): Promise<KeepDdnsNameOutcome> {
  const { domain } = opts.dyfi;
  const fetcher = opts.fetch ?? fetch;
  const self = { instanceId: opts.instanceId, selfUrl: opts.selfUrl };
  return inTransaction(opts.pool, async (client) => {
    const { rows: lock } = await client.query<{ ok: boolean }>(
      'select pg_try_advisory_xact_lock($1, hashtext($2)) as ok',
      [DDNS_LOCK_SPACE, domain],
    );
    if (!lock[0]!.ok) return { action: 'busy' };
    const { rows } = await client.query<StateRow>(
      'select holder_instance, holder_url, last_update_at, last_result, ok from manager.ddns_state where domain = $1',
      [domain],
    );
    const state: DdnsState | null = rows[0]
      ? {
          holderInstance: rows[0].holder_instance,
          holderUrl: rows[0].holder_url,
          lastUpdateAt: rows[0].last_update_at,
          lastResult: rows[0].last_result,
          ok: rows[0].ok,
        }
      : null;
    const now = opts.now?.() ?? new Date();
    let action = decideDdnsAction(state, self, now);
    if (action.kind === 'check-holder')
      action = decideDdnsAction(state, self, now, await holderAlive(state!.holderUrl!, fetcher, opts.healthTimeoutMs));
    if (action.kind !== 'update') return { action: 'none', reason: action.kind === 'wait' ? action.reason : '' };

    const result = await updateDyfi(opts.dyfi, { fetch: fetcher });
    // The instance that called dy.fi holds the name even when it failed: it alone retries (with backoff),
    // instead of every instance repeating a call that dy.fi may count as abuse.
    await client.query(
      `insert into manager.ddns_state as s (domain, holder_instance, holder_url, address, last_update_at, last_result, updates, ok)
       values ($1, $2, $3, $4, $5, $6, 1, $7)
       on conflict (domain) do update set holder_instance = $2, holder_url = $3, address = coalesce($4, s.address),
         last_update_at = $5, last_result = $6, updates = s.updates + 1, ok = $7`,
      [domain, opts.instanceId, opts.selfUrl, result.address ?? null, now, result.text, result.ok],
    );
    logResult(opts.log, domain, action.reason, result.code, result.text);
    return { action: 'updated', reason: action.reason, code: result.code, ok: result.ok, text: result.text };
  });
}

const FAILURES: Partial<Record<DyfiCode, string>> = {
  badauth: 'dy.fi rejected the credentials (badauth): check DYFI_USER and DYFI_PASS; retrying in an hour',
  nohost: 'dy.fi: the name is not allocated to this account (nohost): check DYFI_DOMAIN; retrying in an hour',
  notfqdn: 'dy.fi: not a valid .dy.fi name (notfqdn): check DYFI_DOMAIN; retrying in an hour',
  badip: "dy.fi refused this instance's address (badip: dy.fi serves Finnish addresses only); retrying in an hour",
  abuse: 'dy.fi refused the update as abuse (too many updates); retrying in a day',
};

function logResult(log: Logger | undefined, domain: string, reason: string, code: DyfiCode, text: string): void {
  if (!log) return;
  const fields = { domain, reason, result: text };
  if (code === 'good' || code === 'nochg') log.info(fields, `dy.fi name ${domain} now points at this instance`);
  else if (FAILURES[code]) log.error(fields, FAILURES[code]);
  else log.warn(fields, `dy.fi update failed (${text}); retrying in 5 minutes`);
}
