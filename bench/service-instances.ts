import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../src/http/free-port.js';
import { BIN_PATH } from '../src/version.js';
import { httpGet } from './http-get.js';

/** What an instance logged at warn or above (it runs with LOG_LEVEL=warn), and anything that was not a log line. */
export interface InstanceLog {
  warnings: number;
  errors: number;
  /** Distinct messages, first ones first. */
  samples: string[];
  /** The last lines, for when the process dies. */
  tail(): string;
}

export interface ServiceInstance {
  name: string;
  url: string;
  pid: number;
  log: InstanceLog;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

export type InputInstance = ServiceInstance;

export interface ServiceInstanceOptions {
  name: string;
  databaseUrl: string;
  signal: AbortSignal;
  readyTimeoutMs?: number;
  /** Added to the child's environment (e.g. the manager's SERVER_KEY). */
  env?: Record<string, string>;
}

/** `hopmap input` with its targets loaded at start. */
export function startInputInstance(opts: ServiceInstanceOptions & { targets: string }): Promise<InputInstance> {
  return startServiceInstance('input', ['--targets', opts.targets], opts);
}

/**
 * Starts `hopmap <service>` as a child process, the way it runs in production, and resolves once GET /ready
 * answers 200. The IPC channel makes the child shut itself down if the bench dies without stopping it;
 * its own process group keeps a Ctrl-C in the terminal from reaching it before the bench stops it in order.
 */
export async function startServiceInstance(
  service: 'input' | 'output' | 'manager',
  args: string[],
  opts: ServiceInstanceOptions,
): Promise<ServiceInstance> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [BIN_PATH, service, '--port', String(port), '--host', '127.0.0.1', '--no-migrate', '--name', opts.name, ...args],
    {
      env: { ...process.env, ...opts.env, DATABASE_URL: opts.databaseUrl, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    },
  );
  const log = collectLog(child.stdout!, child.stderr!);
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
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
    for (;;) {
      opts.signal.throwIfAborted();
      if (exited) throw new Error(`${opts.name} exited (${exited}) before it was ready:\n${log.tail()}`);
      if (Date.now() > deadline)
        throw new Error(`${opts.name} was not ready within ${opts.readyTimeoutMs ?? 120_000} ms:\n${log.tail()}`);
      const ready = await httpGet(`${url}/ready`, { agent: false, timeoutMs: 2_000 }).catch(() => undefined);
      if (ready?.status === 200) break;
      await sleep(100);
    }
  } catch (err) {
    await stop(5_000);
    throw err;
  }
  return { name: opts.name, url, pid: child.pid!, log, stop };
}

function collectLog(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream): InstanceLog {
  const lines: string[] = [];
  const log: InstanceLog = { warnings: 0, errors: 0, samples: [], tail: () => lines.slice(-40).join('\n') };
  const sample = (message: string) => {
    if (log.samples.length < 10 && !log.samples.includes(message)) log.samples.push(message);
  };
  const onLine = (line: string) => {
    if (!line.trim()) return;
    lines.push(line);
    if (lines.length > 200) lines.shift();
    let entry: { level?: number; msg?: string; err?: { message?: string } } | undefined;
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      entry = undefined;
    }
    if (typeof entry?.level !== 'number') {
      log.errors++;
      sample(line.slice(0, 300));
    } else if (entry.level >= 40) {
      if (entry.level >= 50) log.errors++;
      else log.warnings++;
      sample(
        `${entry.level >= 50 ? 'error' : 'warn'}: ${entry.msg ?? ''}${entry.err?.message ? ` (${entry.err.message})` : ''}`.slice(
          0,
          300,
        ),
      );
    }
  };
  for (const stream of [stdout, stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      parts.forEach(onLine);
    });
    stream.on('end', () => onLine(partial));
  }
  return log;
}
