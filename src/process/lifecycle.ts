import type { Logger } from '../log/create-logger.js';

interface Hook {
  name: string;
  fn: () => Promise<void> | void;
}

/**
 * Ordered shutdown for one process. Hooks run in reverse order of registration, so what started last
 * (the HTTP listener) stops first and what everything needs (the pool) stops last.
 */
export class Lifecycle {
  private readonly hooks: Hook[] = [];
  private running?: Promise<boolean>;

  constructor(private readonly log: Logger) {}

  get stopping(): boolean {
    return this.running !== undefined;
  }

  onShutdown(name: string, fn: () => Promise<void> | void): void {
    this.hooks.push({ name, fn });
  }

  /** Runs every hook once, even if one fails; resolves true when all succeeded. Safe to call again. */
  shutdown(reason: string): Promise<boolean> {
    this.running ??= (async () => {
      this.log.info({ reason }, 'shutting down');
      let ok = true;
      for (const hook of [...this.hooks].reverse()) {
        try {
          await hook.fn();
          this.log.debug({ hook: hook.name }, 'stopped');
        } catch (err) {
          ok = false;
          this.log.error({ err, hook: hook.name }, 'shutdown step failed');
        }
      }
      this.log.info('shutdown complete');
      return ok;
    })();
    return this.running;
  }

  /**
   * SIGTERM or SIGINT starts a graceful shutdown and exits 0 when it completes; a second signal exits at
   * once. A supervisor's IPC channel closing (it died) counts as a signal.
   */
  handleSignals(exit: (code: number) => void = (code) => process.exit(code)): void {
    const onSignal = (signal: string) => {
      if (this.stopping) {
        this.log.warn({ signal }, 'second signal: exiting without waiting');
        exit(1);
        return;
      }
      void this.shutdown(signal).then((ok) => exit(ok ? 0 : 1));
    };
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
    if (process.send) process.on('disconnect', () => onSignal('supervisor gone'));
  }
}
