import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/create-logger.js';

export interface ChildSpec {
  name: string;
  /** Arguments to node: a script and its arguments. */
  args: string[];
  env?: Record<string, string>;
}

interface Supervised {
  spec: ChildSpec;
  child?: ChildProcess;
  restarts: number;
}

/**
 * Keeps child processes running: one that exits unexpectedly is restarted with backoff (1 s doubling to
 * 30 s, reset after a minute of uptime). Children get their own process group, so a Ctrl-C at the terminal
 * reaches only the supervisor, which then stops each child once with SIGTERM; an IPC channel lets a child
 * notice if the supervisor itself dies.
 */
export class Supervisor {
  private readonly children: Supervised[] = [];
  private stopping = false;

  constructor(private readonly log: Logger) {}

  start(spec: ChildSpec): void {
    const entry: Supervised = { spec, restarts: 0 };
    this.children.push(entry);
    this.launch(entry);
  }

  private launch(entry: Supervised): void {
    const startedAt = Date.now();
    const child = spawn(process.execPath, entry.spec.args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
      env: { ...process.env, ...entry.spec.env },
    });
    entry.child = child;
    child.on('exit', (code, signal) => {
      entry.child = undefined;
      if (this.stopping) return;
      if (Date.now() - startedAt > 60_000) entry.restarts = 0;
      const delay = Math.min(30_000, 1_000 * 2 ** entry.restarts++);
      this.log.warn({ child: entry.spec.name, code, signal, restartInMs: delay }, 'child exited; restarting');
      void sleep(delay).then(() => {
        if (!this.stopping) this.launch(entry);
      });
    });
  }

  /** SIGTERM to every child, SIGKILL to any still running after `graceMs`. */
  async stopAll(graceMs: number): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.children.map(async ({ child, spec }) => {
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          this.log.warn({ child: spec.name }, 'child did not stop in time; killing it');
          child.kill('SIGKILL');
        }, graceMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
