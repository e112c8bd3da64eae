import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/create-logger.js';

export interface ChildSpec {
  name: string;
  /** Arguments to node: a script and its arguments. */
  args: string[];
  env?: Record<string, string>;
  /** A command that runs node for us, e.g. `['ip', 'netns', 'exec', ns]` to start it in a network namespace. */
  prefix?: string[];
  /** Append the child's stdout and stderr to this file instead of sharing ours. */
  logFile?: string;
}

interface Supervised {
  spec: ChildSpec;
  child?: ChildProcess;
  restarts: number;
  /** Stopped on purpose: not restarted. */
  stopped?: boolean;
  /** Killed by a drill that keeps it down until then (epoch ms). */
  downUntil?: number;
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
    const [file, ...prefixArgs] = entry.spec.prefix ?? [process.execPath];
    const args = entry.spec.prefix ? [...prefixArgs, process.execPath, ...entry.spec.args] : entry.spec.args;
    const out = entry.spec.logFile ? openSync(entry.spec.logFile, 'a') : 'inherit';
    const child = spawn(file!, args, {
      stdio: ['ignore', out, out, 'ipc'],
      detached: true,
      env: { ...process.env, ...entry.spec.env },
    });
    if (typeof out === 'number') closeSync(out); // the child has its own copy
    entry.child = child;
    child.on('exit', (code, signal) => {
      entry.child = undefined;
      if (this.stopping || entry.stopped) return;
      if (Date.now() - startedAt > 60_000) entry.restarts = 0;
      const delay = Math.max(Math.min(30_000, 1_000 * 2 ** entry.restarts++), (entry.downUntil ?? 0) - Date.now());
      this.log.warn({ child: entry.spec.name, code, signal, restartInMs: delay }, 'child exited; restarting');
      void sleep(delay).then(() => {
        if (!this.stopping && !entry.stopped) this.launch(entry);
      });
    });
  }

  /** Sends `signal` to the named child if it is running (a drill's kill -9); the supervisor restarts it as usual. */
  signal(name: string, signal: NodeJS.Signals): boolean {
    const child = this.children.find((c) => c.spec.name === name)?.child;
    return child ? child.kill(signal) : false;
  }

  /** kill -9 of the named child, restarted no sooner than `downMs` later (an instance that stays away a while). */
  kill(name: string, downMs: number): boolean {
    const entry = this.children.find((c) => c.spec.name === name);
    if (!entry?.child) return false;
    entry.downUntil = Date.now() + downMs;
    return entry.child.kill('SIGKILL');
  }

  /** Stops one child for good (SIGTERM, SIGKILL after `graceMs`), leaving the others running. */
  async stop(name: string, graceMs: number): Promise<void> {
    const entry = this.children.find((c) => c.spec.name === name);
    if (!entry) return;
    this.children.splice(this.children.indexOf(entry), 1);
    await stopChild(entry, graceMs, this.log);
  }

  /** SIGTERM to every child, SIGKILL to any still running after `graceMs`. */
  async stopAll(graceMs: number): Promise<void> {
    this.stopping = true;
    await Promise.all(this.children.map((entry) => stopChild(entry, graceMs, this.log)));
  }
}

async function stopChild(entry: Supervised, graceMs: number, log: Logger): Promise<void> {
  entry.stopped = true;
  const { child, spec } = entry;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    log.warn({ child: spec.name }, 'child did not stop in time; killing it');
    child.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}
