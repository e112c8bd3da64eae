import type { Lifecycle } from '../src/process/lifecycle.js';
import type { BenchDatabase } from './bench-database.js';

export interface BenchContext {
  db: BenchDatabase;
  /** Length of each measurement; the warm-up before it is not counted. */
  seconds: number;
  warmupSeconds: number;
  /** Concurrent HTTP consumers per measurement. */
  consumers: number;
  signal: AbortSignal;
  /** Last-resort cleanup (runs in reverse order at the end of the run, also after a failure or Ctrl-C). */
  cleanup: Lifecycle;
  progress: (message: string) => void;
}

/** One row of the table. */
export interface Figure {
  /** `<case>/<variant>`, stable across runs so JSON results can be compared. */
  id: string;
  label: string;
  value: number;
  unit: string;
  /** The id of the figure this one is compared against (a baseline measured in the same run). */
  baseline?: string;
  /** Which way the ratio to the baseline is good: rates are better higher, costs (probes, ms, bytes) lower. Default higher. */
  better?: 'higher' | 'lower';
  /** Short extras printed beside the figure: requests/s, latency percentiles, errors. */
  details?: string;
  data?: Record<string, unknown>;
}

export interface CaseResult {
  figures: Figure[];
  /** Lines for the footer: what the figures measure, and anything that went wrong on the way. */
  notes: string[];
}

export interface BenchCase {
  name: string;
  /** Cases whose figures this one names as baselines; they run first, even when --only leaves them out. */
  baselines?: string[];
  run(ctx: BenchContext): Promise<CaseResult>;
}
