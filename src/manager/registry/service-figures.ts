import type { RegisteredService } from './registered-services.js';

/** The few figures from the last /health that tell an operator whether a service does its job, by type. */
export function serviceFigures(s: RegisteredService): Array<[label: string, value: string]> {
  const d = s.details ?? {};
  const c = (d.counters ?? {}) as Record<string, number | undefined>;
  const out: Array<[string, string | undefined]> = [];
  switch (s.serviceType) {
    case 'ping':
      out.push(
        ['results produced', count(c.results_total)],
        ['spool depth', count(field(d.spool, 'depth'))],
        ['quarantined', count(field(d.delivery, 'quarantined'))],
        ['dropped', count(field(d.delivery, 'dropped'))],
        ['pps cap', count(d.pps_cap)],
      );
      break;
    case 'input':
      out.push(
        ['targets served', count(c.targets_served_total)],
        ['leases', count(c.leases_issued_total)],
        ['new hops', count(c.hops_new_total)],
      );
      break;
    case 'output':
      out.push(
        ['results stored', count(c.results_accepted_total)],
        ['duplicates', count(c.results_duplicate_total)],
        ['rejected', count(c.results_rejected_total)],
      );
      break;
  }
  out.push(['uptime', typeof d.uptime_seconds === 'number' ? duration(d.uptime_seconds) : undefined]);
  return out.filter((f): f is [string, string] => f[1] !== undefined);
}

/** `obj[key]` when obj is an object: a figure of the last /health, which may be missing or of another shape. */
function field(obj: unknown, key: string): unknown {
  return obj && typeof obj === 'object' ? (obj as Record<string, unknown>)[key] : undefined;
}

function count(v: unknown): string | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v.toLocaleString('en-US') : undefined;
}

/** 42 s, 5 min, 3 h 20 min, 2 d 4 h. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** "12 s ago", or "never". */
export function ago(at: Date | null, now = Date.now()): string {
  return at ? `${duration((now - at.getTime()) / 1000)} ago` : 'never';
}
