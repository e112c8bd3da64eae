import { MultiBar, Presets } from 'cli-progress';

/** The one progress line `hopmap up` shows on a terminal while it starts (database, migrations, ranges …). */
export interface StartupProgress {
  /** Starts the next step; the one before is done. */
  step(label: string): void;
  /** How far the current step is (0 to 1), with a figure to show after its label. */
  within(fraction: number, detail?: string): void;
  /** Writes whole lines above the progress line (a warning while starting). */
  print(text: string): void;
  /** Clears the progress line; what is printed afterwards goes straight to the terminal. Safe to call again. */
  stop(): void;
}

/** Off a terminal: nothing to draw, and printed lines go straight to stdout. */
export const NO_PROGRESS: StartupProgress = {
  step: () => {},
  within: () => {},
  print: (text) => void process.stdout.write(text),
  stop: () => {},
};

export function startupProgress(steps: number, stream: NodeJS.WriteStream = process.stdout): StartupProgress {
  const bars = new MultiBar(
    {
      stream,
      format: '{bar} {step}/{steps} {label}{detail}   {duration_formatted}',
      barsize: 20,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    },
    Presets.shades_classic,
  );
  const bar = bars.create(steps, 0, { step: 0, steps, label: 'starting', detail: '' });
  let done = -1;
  let active = true;
  return {
    step(label) {
      if (!active) return;
      done++;
      bar.update(done, { step: Math.min(done + 1, steps), label, detail: '' });
    },
    within(fraction, detail) {
      if (!active) return;
      bar.update(done + Math.max(0, Math.min(1, fraction)), { detail: detail ? ` (${detail})` : '' });
    },
    print(text) {
      if (!active) return void stream.write(text);
      // cli-progress writes logged lines at its next redraw; redraw now, so none is lost at an exit.
      bars.log(text.endsWith('\n') ? text : `${text}\n`);
      bars.update();
    },
    stop() {
      if (!active) return;
      active = false;
      bars.update();
      bars.stop();
    },
  };
}
