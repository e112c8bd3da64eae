import { randomUUID } from 'node:crypto';
import { RESULT_FORMAT, type Result } from '../../src/results/result-schema.js';

const at = (ms: number) => new Date(Date.UTC(2026, 10, 23, 1, 0, 0) + ms).toISOString();

/** A valid ping result to `target`. */
export function pingResult(target: string, opts: { lease?: string | null; worker?: string } = {}): Result {
  return {
    format: RESULT_FORMAT,
    id: randomUUID(),
    type: 'ping',
    worker: opts.worker ?? 'w1',
    lease: opts.lease ?? null,
    target,
    started_at: at(0),
    finished_at: at(3),
    method: 'icmp',
    sent: 3,
    received: 3,
    rtts_us: [40.5, 39.1, 41.7],
    reply_ttl: 58,
  };
}

/**
 * A valid traceroute to `target` through `path` (null for a silent hop), 3 probes per hop; `atMs` shifts when
 * it was measured (ms after the factory's fixed time).
 */
export function traceResult(
  target: string,
  path: Array<string | null>,
  opts: { lease?: string | null; worker?: string; flow?: number; atMs?: number } = {},
): Result {
  const t = opts.atMs ?? 0;
  return {
    format: RESULT_FORMAT,
    id: randomUUID(),
    type: 'traceroute',
    worker: opts.worker ?? 'w1',
    lease: opts.lease ?? null,
    target,
    started_at: at(t + 10),
    finished_at: at(t + 900),
    method: 'icmp-paris',
    flow: opts.flow ?? 4242,
    reached: path.at(-1) === target,
    stop: 'reached',
    probes_sent: path.length * 3,
    hops: path.map((from, i) => ({
      ttl: i + 1,
      probes: [0, 1, 2].map((k) =>
        from
          ? { from, rtt_us: 100 * (i + 1) + k, icmp_type: from === target ? 0 : 11, icmp_code: 0, reply_ttl: 64 - i }
          : null,
      ),
    })),
  };
}
