import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../src/http/free-port.js';
import { BIN_PATH } from '../src/version.js';
import { httpGet } from './http-get.js';

export interface OutputInstance {
  name: string;
  url: string;
  /** Lines logged at warn or above (it runs with LOG_LEVEL=warn), or that were not log lines; the first few. */
  problems: { count: number; samples: string[] };
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `hopmap output` as a child process, as in production, and resolves once GET /ready answers 200
 * (its start-up has then run measurements.ensure_partitions). As with `hopmap input` (input-instances.ts):
 * the IPC channel stops the child if the bench dies, its own process group keeps Ctrl-C for the bench to
 * pass on in order. `--health-port 0`: the default 8091 would collide between two instances.
 */
export async function startOutputInstance(opts: { name: string; databaseUrl: string; signal: AbortSignal }): Promise<OutputInstance> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [BIN_PATH, 'output', '--port', String(port), '--host', '127.0.0.1', '--health-port', '0', '--no-migrate', '--name', opts.name],
    { env: { ...process.env, DATABASE_URL: opts.databaseUrl, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true },
  );
  const problems = { count: 0, samples: [] as string[] };
  let tail = '';
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-4_000);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (!line.trim() || /"level":[123]\d[,}]/.test(line)) continue; // trace, debug and info are not problems
        problems.count++;
        if (problems.samples.length < 5) problems.samples.push(line.slice(0, 300));
      }
    });
  }
  let exited: string | undefined;
  const exit = once(child, 'exit').then(([code, signal]) => {
    exited = signal ? `signal ${String(signal)}` : `status ${String(code)}`;
  });
  const stop = async (graceMs = 15_000) => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exit;
    clearTimeout(timer);
  };

  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      opts.signal.throwIfAborted();
      if (exited) throw new Error(`${opts.name} exited (${exited}) before it was ready:\n${tail}`);
      if (Date.now() > deadline) throw new Error(`${opts.name} was not ready within 120 s:\n${tail}`);
      const ready = await httpGet(`${url}/ready`, { agent: false, timeoutMs: 2_000 }).catch(() => undefined);
      if (ready?.status === 200) break;
      await sleep(100);
    }
  } catch (err) {
    await stop(5_000);
    throw err;
  }
  return { name: opts.name, url, problems, stop };
}
