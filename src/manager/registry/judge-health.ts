import { fieldText } from '../../http/form-field.js';
import type { Answer } from './get-json.js';

export interface HealthVerdict {
  status: 'ok' | 'degraded' | 'down';
  error: string | null;
  /** The service answered as a live service would (not silent, not 5xx): moves last_seen_at. */
  seen: boolean;
  /** The instance that answered, when it said; a new one means the service restarted or was replaced. */
  instanceId: string | null;
  /** Key figures from the body, for the workers page. */
  details: Record<string, unknown> | null;
}

/** Top-level /health fields worth keeping: the kit's, and a worker's spool, pps cap and delivery. */
const KEPT_FIELDS = [
  'status',
  'results_at_risk',
  'version',
  'uptime_seconds',
  'counters',
  'checks',
  'pps_cap',
  'ping_method',
  'raw_sockets',
  'spool',
  'delivery',
  'input',
  'stop_set',
  'network',
];
const MAX_DETAILS_CHARS = 16 * 1024;
/** A worker whose delivery failed this many times in a row is losing touch with its output. */
const DELIVERY_FAILURES_DEGRADED = 3;

/** What one /health answer (or its absence) says about a service. */
export function judgeHealth(url: string, outcome: { answer: Answer } | { failure: string }): HealthVerdict {
  if ('failure' in outcome)
    return {
      status: 'down',
      error: `${url} is unreachable: ${outcome.failure}`,
      seen: false,
      instanceId: null,
      details: null,
    };
  const { status: code, json, text } = outcome.answer;
  if (code >= 500)
    return {
      status: 'down',
      error: `${url} answered HTTP ${code}${snippet(json, text)}`,
      seen: false,
      instanceId: null,
      details: null,
    };
  if (code < 200 || code >= 300)
    return {
      status: 'degraded',
      error: `${url} answered HTTP ${code}${snippet(json, text)}`,
      seen: true,
      instanceId: null,
      details: null,
    };
  if (!json || typeof json !== 'object' || Array.isArray(json))
    return {
      status: 'degraded',
      error: `${url} answered something that is not a JSON object`,
      seen: true,
      instanceId: null,
      details: null,
    };
  const body = json as Record<string, unknown>;
  const instanceId = typeof body.instance_id === 'string' ? body.instance_id : null;
  const problem = healthProblem(body);
  return { status: problem ? 'degraded' : 'ok', error: problem, seen: true, instanceId, details: keyFigures(body) };
}

function healthProblem(body: Record<string, unknown>): string | null {
  switch (body.status) {
    case 'ok':
      return workerProblem(body);
    case 'degraded': {
      const checks = Object.entries(asObject(body.checks) ?? {})
        .filter(([, v]) => v !== 'ok')
        .map(([k, v]) => `${k} ${String(v)}`);
      // A worker says why its results are at risk (src/worker/results-at-risk.ts).
      const atRisk = Array.isArray(body.results_at_risk)
        ? body.results_at_risk.map((r) => String(r).slice(0, 300)).slice(0, 5)
        : [];
      // And why its network is in doubt: cut off, or never answered (src/worker/network-health.ts).
      const network = asObject(body.network)?.reason;
      const reasons = [...(typeof network === 'string' ? [network.slice(0, 300)] : []), ...atRisk, ...checks];
      return `degraded${reasons.length ? `: ${reasons.join('; ')}` : ''}`;
    }
    case 'draining':
      return 'draining: the service is shutting down';
    default:
      return `unknown health status ${JSON.stringify(body.status ?? null)}`;
  }
}

/** A worker reports ok while it lives; it is of no use if it cannot get targets or deliver results. */
function workerProblem(body: Record<string, unknown>): string | null {
  const input = asObject(body.input);
  if (input?.last_fetch_ok === false)
    return `cannot fetch targets from ${input.source == null ? 'its input' : fieldText(input.source)}`;
  const delivery = asObject(body.delivery);
  const failures = Number(delivery?.consecutiveFailures ?? 0);
  if (failures >= DELIVERY_FAILURES_DEGRADED)
    return `result delivery failing (${failures} attempts in a row)${delivery?.lastError ? `: ${fieldText(delivery.lastError).slice(0, 200)}` : ''}`;
  return null;
}

function keyFigures(body: Record<string, unknown>): Record<string, unknown> {
  const kept = Object.fromEntries(KEPT_FIELDS.filter((k) => body[k] !== undefined).map((k) => [k, body[k]]));
  if (JSON.stringify(kept).length <= MAX_DETAILS_CHARS) return kept;
  // An oversized body keeps only its scalar figures.
  return Object.fromEntries(Object.entries(kept).filter(([, v]) => v === null || typeof v !== 'object'));
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function snippet(json: unknown, text: string): string {
  const message = (asObject(asObject(json)?.error)?.message as string | undefined) ?? text.trim().split('\n', 1)[0];
  return message ? `: ${message.slice(0, 200)}` : '';
}
