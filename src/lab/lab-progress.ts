import type { LabProgress } from './lab-run.js';

/** "42 s: 1,234 results, 56 hops, 78 links, 9 to measure". */
export function formatLabProgress(p: LabProgress, elapsedMs: number): string {
  const n = (v: number) => v.toLocaleString('en-US');
  return `${elapsed(elapsedMs)}: ${n(p.results)} results, ${n(p.hops)} hops, ${n(p.links)} links, ${n(p.pending)} to measure`;
}

/** "42 s", "3 min 05 s". */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/**
 * What a progress update does: on a terminal it replaces the one updating line; elsewhere (a pipe, a log
 * file, CI) it is a line of its own, at most one every `everyMs`, so a log shows the run without flooding.
 */
export function progressWrite(opts: {
  isTTY: boolean;
  /** When the last line of its own was written (ms), or undefined before the first. */
  lastLineAt: number | undefined;
  now: number;
  everyMs: number;
}): 'overwrite' | 'line' | 'skip' {
  if (opts.isTTY) return 'overwrite';
  if (opts.lastLineAt === undefined || opts.now - opts.lastLineAt >= opts.everyMs) return 'line';
  return 'skip';
}

/** `hopmap lab run`'s progress on stderr (stdout keeps the report): steps, then the figures as it converges. */
export class ProgressLine {
  private lastLineAt: number | undefined;
  private drawn = false;

  constructor(
    private readonly out: { isTTY: boolean; write(text: string): unknown },
    private readonly everyMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** A step (building the lab, stopping the workers): always shown, on the updating line on a terminal. */
  step(text: string): void {
    if (this.out.isTTY) return this.draw(text);
    this.out.write(`${text}\n`);
    this.lastLineAt = this.now();
  }

  /** Figures that change: see `progressWrite`. */
  update(text: string): void {
    const how = progressWrite({
      isTTY: this.out.isTTY,
      lastLineAt: this.lastLineAt,
      now: this.now(),
      everyMs: this.everyMs,
    });
    if (how === 'overwrite') this.draw(text);
    if (how === 'line') this.step(text);
  }

  /** Ends the updating line, so what follows starts on a line of its own. */
  end(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }

  private draw(text: string): void {
    // \r to the line's start, \x1b[K clears what a longer text before left.
    this.out.write(`\r${text}\x1b[K`);
    this.drawn = true;
  }
}
