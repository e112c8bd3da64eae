import type { DeliveryStats } from './deliver-results.js';

export interface RiskFigures {
  delivery: DeliveryStats;
  /** Results dropped in the last hour. */
  droppedLastHour: number;
  /** The spool's bytes over what it may fill, 0..1. */
  spoolFullness: number;
  spoolCapacity: number;
}

/**
 * Why results are at risk right now, one sentence each; empty when none are. This turns the worker's
 * /health "degraded", which the manager shows with these reasons.
 */
export function resultsAtRisk(
  f: RiskFigures,
  { stallMs, now = Date.now() }: { stallMs: number; now?: number },
): string[] {
  const reasons: string[] = [];
  const d = f.delivery;
  const stalled = now - d.lastProgressAt;
  if (d.backlog > 0 && stalled > stallMs) {
    reasons.push(
      `delivery stalled: ${d.backlog} results waiting, none delivered for ${Math.round(stalled / 60_000)} min${d.lastError ? ` (${d.lastError.slice(0, 200)})` : ''}`,
    );
  }
  if (d.quarantined > 0)
    reasons.push(
      `${d.quarantined} results quarantined: the output fails on them while it stores others (tried again on a slow schedule)`,
    );
  if (f.droppedLastHour > 0)
    reasons.push(`${f.droppedLastHour} results dropped in the last hour: the spool or its disk was full`);
  if (f.spoolFullness > 0.5)
    reasons.push(`spool ${Math.round(f.spoolFullness * 100)}% full (${d.spooledBytes} of ${f.spoolCapacity} bytes)`);
  return reasons;
}
