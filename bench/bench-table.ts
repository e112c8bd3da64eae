import type { Figure } from './bench-case.js';
import type { MachineInfo } from './bench-database.js';
import type { LoopResult } from './measure-loop.js';

const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export const formatCount = (n: number): string => whole.format(n);

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${whole.format(ms)} ms`;
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

function formatRatio(r: number | undefined): string {
  if (r === undefined) return '';
  return r >= 0.1 ? r.toFixed(2) : r.toPrecision(2);
}

const rateUnit = (unit: string) => unit.replace(/^.*\//, '/');
const baselineLabel = (b: Figure) => `${formatCount(b.value)} ${b.unit} (${b.label.replace(/^.*, (\d+ clients?)$/, '$1')})`;

/** The whole report: machine header, one row per figure with its baseline and ratio, then the notes. */
export function formatReport(opts: { machine: MachineInfo; seconds: number; warmupSeconds: number; figures: Figure[]; notes: string[] }): string {
  const byId = new Map(opts.figures.map((f) => [f.id, f]));
  const header = ['figure', 'value', 'baseline (same run, same machine)', 'ratio', 'details'];
  const rows = opts.figures.map((f) => {
    const baseline = f.baseline ? byId.get(f.baseline) : undefined;
    return [
      f.label,
      `${formatCount(f.value)}${rateUnit(f.unit)}`,
      baseline ? baselineLabel(baseline) : f.baseline ? `(${f.baseline} not measured)` : '–',
      formatRatio(ratioOf(f, baseline)),
      f.details ?? '',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();

  const m = opts.machine;
  return [
    `hopmap bench: ${m.cpus}, ${m.memory} RAM, node ${m.node}`,
    `database: ${m.postgres} (${m.server}); ${m.settings}`,
    `each figure: ${opts.seconds} s measured after a ${opts.warmupSeconds} s warm-up, on one fresh database`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    '* ratio = value ÷ baseline, both measured in this run on this machine (and database, for the SQL figures); higher is better.',
    ...opts.notes.map((n) => `* ${n}`),
  ].join('\n');
}
