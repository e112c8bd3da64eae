import type { Figure } from './bench-case.js';
import type { MachineInfo } from './bench-database.js';
import type { LoopResult } from './measure-loop.js';

const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const threeDigits = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });

export const formatCount = (n: number): string => whole.format(n);

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${whole.format(ms)} ms`;
}

/** 36,512 · 41.3 · 3.07 · 0.58: whole numbers from 100 up, three significant digits below. */
export function formatValue(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return Math.abs(n) >= 100 ? whole.format(n) : threeDigits.format(n);
}

/** "412 req/s, p50 18 ms, p99 45 ms", plus the errors when there were any. */
export function loopDetails(r: LoopResult, op: string): string {
  const parts = [`${formatCount(r.opsPerSecond)} ${op}/s`, `p50 ${formatMs(r.p50Ms)}`, `p99 ${formatMs(r.p99Ms)}`];
  if (r.errors > 0) parts.push(`${formatCount(r.errors)} errors`);
  return parts.join(', ');
}

export function ratioOf(figure: Figure, baseline: Figure | undefined): number | undefined {
  return baseline && baseline.value > 0 ? figure.value / baseline.value : undefined;
}

// Times and sizes are costs; everything else (rates, counts found) is better higher unless a figure says.
const COST_UNIT = /^(ns|µs|us|ms|s|min|bytes|KiB|MiB|GiB)(\/|$)/;

export function betterOf(f: Figure): 'higher' | 'lower' {
  return f.better ?? (COST_UNIT.test(f.unit) ? 'lower' : 'higher');
}

function formatRatio(r: number | undefined): string {
  if (r === undefined) return '';
  return r >= 0.1 ? r.toFixed(2) : r.toPrecision(2);
}

export interface ReportRow {
  id: string;
  label: string;
  value: number;
  unit: string;
  /** The figure it is compared against, measured in the same run; null when it is a baseline itself or has none. */
  baseline: { id: string; label: string; value: number | null; unit: string | null } | null;
  /** value ÷ baseline value; null without a measured baseline. */
  ratio: number | null;
  better: 'higher' | 'lower';
  details: string | null;
  data?: Record<string, unknown>;
}

/** The table's rows, as printed and as written by --json: each figure with its baseline and the ratio. */
export function reportRows(figures: Figure[]): ReportRow[] {
  const byId = new Map(figures.map((f) => [f.id, f]));
  return figures.map((f) => {
    const b = f.baseline ? byId.get(f.baseline) : undefined;
    return {
      id: f.id,
      label: f.label,
      value: f.value,
      unit: f.unit,
      baseline: f.baseline
        ? { id: f.baseline, label: b?.label ?? '(not measured)', value: b?.value ?? null, unit: b?.unit ?? null }
        : null,
      ratio: ratioOf(f, b) ?? null,
      better: betterOf(f),
      details: f.details ?? null,
      ...(f.data ? { data: f.data } : {}),
    };
  });
}

export interface ReportHeader {
  machine: MachineInfo;
  seconds: number;
  warmupSeconds: number;
  /** Load average (1 min) when the run started and when it ended: other work on the machine moves the figures. */
  load?: { start: number; end: number };
  totalSeconds?: number;
}

/** The whole report: machine header, one row per figure with its baseline and ratio, then the notes. */
export function formatReport(opts: ReportHeader & { figures: Figure[]; notes: string[] }): string {
  const header = [
    'figure',
    'value',
    'baseline (same run, same machine)',
    'baseline value',
    'ratio',
    'better',
    'details',
  ];
  const rows = reportRows(opts.figures).map((r) => [
    r.label,
    `${formatValue(r.value)} ${r.unit}`,
    r.baseline?.label ?? '–',
    r.baseline?.value != null ? `${formatValue(r.baseline.value)} ${r.baseline.unit}` : '',
    r.ratio === null ? '' : formatRatio(r.ratio),
    r.baseline ? r.better : '',
    r.details ?? '',
  ]);
  const right = new Set([1, 3, 4]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();

  const m = opts.machine;
  const run = [
    `each figure: ${opts.seconds} s measured after a ${opts.warmupSeconds} s warm-up, on one fresh database`,
    opts.load ? `load average ${opts.load.start.toFixed(2)} at the start, ${opts.load.end.toFixed(2)} at the end` : '',
    opts.totalSeconds !== undefined ? `whole run ${formatDuration(opts.totalSeconds)}` : '',
  ].filter(Boolean);
  return [
    `hopmap bench: ${m.cpus}, ${m.memory} RAM, node ${m.node}`,
    `database: ${m.postgres} (${m.server}); ${m.settings}`,
    run.join('; '),
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    '* ratio = value ÷ baseline value, both measured in this run on this machine (and database, for the SQL figures); "better" says which way a ratio is good.',
    ...opts.notes.map((n) => `* ${n}`),
  ].join('\n');
}

export function formatDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return m > 0 ? `${m} min ${s} s` : `${s} s`;
}

/** What --json writes: the same rows as the table, the machine and the run. */
export function jsonReport(
  opts: ReportHeader & { figures: Figure[]; notes: string[]; options: Record<string, unknown>; date: Date },
) {
  return {
    date: opts.date.toISOString(),
    machine: opts.machine,
    load: opts.load ?? null,
    totalSeconds: opts.totalSeconds ?? null,
    options: opts.options,
    seconds: opts.seconds,
    warmupSeconds: opts.warmupSeconds,
    rows: reportRows(opts.figures),
    notes: opts.notes,
  };
}
