import type { DyfiCode } from './dyfi-update.js';

export interface DdnsState {
  holderInstance: string | null;
  holderUrl: string | null;
  lastUpdateAt: Date | null;
  lastResult: string | null;
  ok: boolean | null;
}

export interface DdnsSelf {
  instanceId: string;
  selfUrl: string;
}

export type DdnsAction =
  { kind: 'wait'; reason: string } | { kind: 'update'; reason: string } | { kind: 'check-holder' };

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** dy.fi names expire 7 days after the last update; it asks for a refresh 5 to 6 days after, at a slightly random time. */
const REFRESH_AFTER_MS = 5 * DAY_MS;
const REFRESH_SPREAD_MS = DAY_MS;
/** A live holder that has not refreshed by then (6.5 days) is failing at it: another instance saves the name. */
const STALE_AFTER_MS = 6 * DAY_MS + 12 * HOUR_MS;

/**
 * How long to wait after a failed update before the holder tries again. Wrong settings would only repeat
 * (and dy.fi disables accounts that hammer it); `abuse` asks for a pause; the rest may be passing.
 */
const RETRY_AFTER_MS: Partial<Record<DyfiCode, number>> = {
  badauth: HOUR_MS,
  nohost: HOUR_MS,
  notfqdn: HOUR_MS,
  badip: HOUR_MS,
  abuse: DAY_MS,
};
const RETRY_TRANSIENT_MS = 5 * MINUTE_MS;

export function retryAfterMs(lastResult: string | null): number {
  const code = (lastResult ?? '').split(/[\s:]/)[0] as DyfiCode;
  return RETRY_AFTER_MS[code] ?? RETRY_TRANSIENT_MS;
}

/** When the holder refreshes: 5 days after the last update plus up to a day, spread by the update's own time. */
export function refreshAt(lastUpdateAt: Date): Date {
  const spread = (Math.imul(Math.floor(lastUpdateAt.getTime() / 1000), 0x9e3779b1) >>> 0) / 2 ** 32; // Knuth's multiplicative hash
  return new Date(lastUpdateAt.getTime() + REFRESH_AFTER_MS + Math.floor(spread * REFRESH_SPREAD_MS));
}

export function isHolder(state: DdnsState, self: DdnsSelf): boolean {
  return state.holderInstance === self.instanceId || state.holderUrl === self.selfUrl;
}

/**
 * What the instance running the minute's check does. Exactly one instance holds the name: only the holder
 * refreshes it (dy.fi points it at whoever calls), and another takes it over only when the holder stops
 * answering. `holderAlive` is asked for (`check-holder`) only when it matters.
 */
export function decideDdnsAction(
  state: DdnsState | null,
  self: DdnsSelf,
  now: Date,
  holderAlive?: boolean,
): DdnsAction {
  if (!state?.holderInstance || !state.holderUrl) return { kind: 'update', reason: 'no instance holds the name yet' };
  const since = state.lastUpdateAt ? now.getTime() - state.lastUpdateAt.getTime() : Infinity;
  if (isHolder(state, self)) {
    if (state.ok === false) {
      return since >= retryAfterMs(state.lastResult)
        ? { kind: 'update', reason: `retrying after '${state.lastResult}'` }
        : { kind: 'wait', reason: `backing off after '${state.lastResult}'` };
    }
    if (!state.lastUpdateAt || now >= refreshAt(state.lastUpdateAt))
      return { kind: 'update', reason: 'refreshing before the name expires' };
    return { kind: 'wait', reason: 'this instance holds the name' };
  }
  if (holderAlive === undefined) return { kind: 'check-holder' };
  if (!holderAlive) return { kind: 'update', reason: `the holder ${state.holderUrl} does not answer` };
  if (state.ok !== false && since > STALE_AFTER_MS)
    return { kind: 'update', reason: 'the holder has not refreshed the name for 6.5 days' };
  return { kind: 'wait', reason: `the holder ${state.holderUrl} answers` };
}
