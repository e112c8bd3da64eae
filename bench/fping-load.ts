import { runInNamespace } from './lab-for-bench.js';

export const FPING = '/usr/bin/fping';

/**
 * fping 5.1 keeps every sequence number it sent for 10 s and stops with "not enough sequence numbers
 * available" after 65,535 echoes in that time, so one process cannot go flat out for more than about a
 * second: the load is a series of runs of at most this many echoes each, back to back.
 */
const FPING_MAX_ECHOES_PER_RUN = 65_535;

export interface FpingOptions {
  ns: string;
  targets: string[];
  warmupSeconds: number;
  seconds: number;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface FpingResult {
  sent: number;
  answered: number;
  /** Wall-clock time of the measured runs, each from spawn to exit. */
  seconds: number;
  runs: number;
  /** Mean RTT of the answered echoes in µs, from fping's per-target averages. */
  avg_us: number;
  /** One run's command line, with the target list shortened. */
  command: string;
}

/** The fastest fair fping found: flat out (no gap between any two echoes), at most one echo per target per ms. */
export function fpingArgs(count: number, timeoutMs: number): string[] {
  return ['-q', '-c', String(count), '-p', '1', '-i', '0', '-b', '16', '-t', String(timeoutMs), '-B1', '-r0'];
}

/**
 * Runs fping in the namespace over `targets` as fast as it goes: runs that start within the warm-up are not
 * counted, then runs are counted until they add up to `seconds`. Echoes and replies come from fping's
 * per-target summary lines (`ADDR : xmt/rcv/%loss = 258/258/0%, min/avg/max = …`).
 */
export async function runFping(opts: FpingOptions): Promise<FpingResult> {
  const count = Math.floor(FPING_MAX_ECHOES_PER_RUN / opts.targets.length);
  const args = [...fpingArgs(count, opts.timeoutMs), ...opts.targets];
  const result: FpingResult = {
    sent: 0,
    answered: 0,
    seconds: 0,
    runs: 0,
    avg_us: NaN,
    command: `ip netns exec ${opts.ns} fping ${fpingArgs(count, opts.timeoutMs).join(' ')} ${opts.targets[0]} … ${opts.targets.at(-1)} (${opts.targets.length} addresses)`,
  };
  let rttSum = 0;
  const warmupEnd = performance.now() + opts.warmupSeconds * 1000;
  while (result.seconds < opts.seconds) {
    const warm = performance.now() < warmupEnd;
    const run = await runInNamespace(opts.ns, FPING, args, { signal: opts.signal, timeoutMs: 60_000 });
    const summary = parseFpingSummary(run.stderr);
    // 0: all answered, 1: some targets lost echoes; anything else, or missing lines, is a failure.
    if ((run.code !== 0 && run.code !== 1) || summary.targets !== opts.targets.length) {
      throw new Error(
        `fping failed (${run.signal ? `signal ${run.signal}` : `exit ${run.code}`}, ${summary.targets} summary lines): ${run.stderr.slice(-500).trim()}`,
      );
    }
    if (warm) continue;
    result.runs++;
    result.sent += summary.sent;
    result.answered += summary.answered;
    result.seconds += run.ms / 1000;
    rttSum += summary.rttSumMs * 1000;
  }
  result.avg_us = result.answered > 0 ? rttSum / result.answered : NaN;
  return result;
}

export function parseFpingSummary(stderr: string): {
  targets: number;
  sent: number;
  answered: number;
  rttSumMs: number;
} {
  const out = { targets: 0, sent: 0, answered: 0, rttSumMs: 0 };
  for (const m of stderr.matchAll(
    /^\S+\s*: xmt\/rcv\/%loss = (\d+)\/(\d+)\/\d+%(?:, min\/avg\/max = [\d.]+\/([\d.]+)\/[\d.]+)?/gm,
  )) {
    out.targets++;
    out.sent += Number(m[1]);
    out.answered += Number(m[2]);
    if (m[3]) out.rttSumMs += Number(m[3]) * Number(m[2]);
  }
  return out;
}
