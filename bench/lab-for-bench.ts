import { spawn } from 'node:child_process';
import { buildLab } from '../src/lab/build-lab.js';
import { removeStaleLabs } from '../src/lab/remove-stale-labs.js';
import type { Lab } from '../src/lab/open-lab.js';
import { teardownLab } from '../src/lab/teardown-lab.js';
import { loadTopology } from '../src/lab/topology.js';
import type { BenchContext, CaseResult } from './bench-case.js';

const LAB_TAG = 'bench';

/**
 * Builds `topologyFile` as lab `bench<pid>` (after removing `bench<pid>` labs of bench runs that died) and
 * registers its teardown with the run's last-resort cleanup, so Ctrl-C or a failure mid-case removes it too.
 * Call `teardown()` when the case is done with it; the second teardown at the end of the run is a no-op.
 */
export async function buildBenchLab(ctx: BenchContext, topologyFile: string): Promise<Lab> {
  const name = `${LAB_TAG}${process.pid}`;
  const stale = await removeStaleLabs(LAB_TAG);
  if (stale.length > 0) ctx.progress(`removed ${stale.length} namespaces of bench labs whose process is gone`);
  ctx.cleanup.onShutdown(`lab ${name}`, async () => {
    await teardownLab(name);
  });
  ctx.progress(`building lab ${name} from ${topologyFile}`);
  return buildLab(loadTopology(topologyFile), { name });
}

/**
 * Runs a lab case: skipped with a note without root (namespaces and raw sockets need it), else `fn` on
 * `topologyFile` built as the bench lab, torn down afterwards whatever `fn` did.
 */
export async function withBenchLab(
  ctx: BenchContext,
  caseName: string,
  topologyFile: string,
  fn: (lab: Lab) => Promise<CaseResult>,
): Promise<CaseResult> {
  if (process.getuid?.() !== 0)
    return { figures: [], notes: [`${caseName}: skipped, it needs root (network namespaces and raw sockets).`] };
  const lab = await buildBenchLab(ctx, topologyFile);
  try {
    return await fn(lab);
  } finally {
    await lab.teardown();
  }
}

export interface NamespaceRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock time from spawn to exit. */
  ms: number;
}

// `ip` is in the sbin directories, which a non-login root shell may lack.
const ENV = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin:/usr/bin:/bin` };

/**
 * `ip netns exec <ns> <cmd> <args…>` to its end; rejects when `signal` aborts (the child is killed). The child
 * gets its own process group, so a Ctrl-C in the terminal reaches only the bench, which then stops it.
 */
export function runInNamespace(
  ns: string,
  cmd: string,
  args: readonly string[],
  opts: { signal: AbortSignal; timeoutMs: number; cwd?: string },
): Promise<NamespaceRun> {
  return new Promise((resolve, reject) => {
    opts.signal.throwIfAborted();
    const started = performance.now();
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      env: ENV,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      timeout: opts.timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const onAbort = () => child.kill('SIGKILL');
    opts.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      opts.signal.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.on('close', (code, signal) => {
      opts.signal.removeEventListener('abort', onAbort);
      if (opts.signal.aborted) reject(opts.signal.reason as Error);
      else resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}
