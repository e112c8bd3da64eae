import { spawn } from 'node:child_process';

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// `ip` and what it runs are found on PATH plus the sbin directories, which a non-login root shell may lack.
const ENV = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin:/usr/bin:/bin` };

/** Runs a command to its end and collects its output; never throws on a non-zero exit (ping exits 1 on no reply). */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: ENV,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * `ip [-n NS] -batch -` with one command per line: a lab builds with a handful of processes instead of one per
 * command. Without -force, ip stops at the first failing line; the error names that line. With `ignore`, ip
 * runs every line (-force) and only the failures `ignore` does not accept are errors.
 */
export async function ipBatch(
  lines: readonly string[],
  ns?: string,
  opts: { ignore?: (line: string, error: string) => boolean } = {},
): Promise<void> {
  if (lines.length === 0) return;
  const args = [...(ns ? ['-n', ns] : []), ...(opts.ignore ? ['-force'] : []), '-batch', '-'];
  const res = await run('ip', args, { input: `${lines.join('\n')}\n` });
  if (res.code === 0) return;
  const failures = batchFailures(res.stderr, lines);
  const unexpected = failures.filter((f) => !opts.ignore?.(f.line, f.error));
  if (failures.length > 0 && unexpected.length === 0) return;
  const line = unexpected[0]?.line;
  throw new Error(
    `ip ${args.join(' ')} failed${line ? ` at "${line}"` : ''}: ${res.stderr.trim() || `exit ${res.code ?? res.signal}`}`,
  );
}

/** ip prints each failing line's error, then `Command failed -:N`. */
function batchFailures(stderr: string, lines: readonly string[]): Array<{ line: string; error: string }> {
  const out: Array<{ line: string; error: string }> = [];
  let error: string[] = [];
  for (const text of stderr.split('\n')) {
    const failed = /^Command failed -:(\d+)$/.exec(text.trim());
    if (failed) {
      out.push({ line: lines[Number(failed[1]) - 1] ?? '', error: error.join(' ').trim() });
      error = [];
    } else if (text.trim()) {
      error.push(text.trim());
    }
  }
  return out;
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
