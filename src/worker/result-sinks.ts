import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log/create-logger.js';
import { createFileSink } from './sink-file.js';
import { createHttpSink } from './sink-http.js';
import { splitUpstreams } from './target-source.js';

/** An item the receiver refused for good, by its index in the batch sent. */
export interface RejectedItem {
  index: number;
  error: unknown;
}

/**
 * What became of a batch. `ok` means the receiver has it (items it named as rejected are not worth
 * sending again). Otherwise the batch stays spooled: with no `permanent` it is worth retrying after a
 * backoff; `permanent: 'batch'` means this batch will never fit (413), so send it in smaller pieces;
 * `permanent: 'receiver'` means the receiver refuses this worker (401, 403, 404, ...) until an operator acts.
 * `status` is the HTTP status when a receiver answered (a 5xx may be the batch's fault: find-poison.ts);
 * `unreachable` says that none answered at all.
 */
export type SendOutcome =
  | { ok: true; rejected?: RejectedItem[] }
  | {
      ok: false;
      reason: string;
      retryAfterMs?: number;
      permanent?: 'batch' | 'receiver';
      status?: number;
      unreachable?: true;
    };

export interface ResultSink {
  /** Never throws: every failure is an outcome. `signal` aborts an attempt in flight (shutdown). */
  send(batch: readonly object[], signal?: AbortSignal): Promise<SendOutcome>;
  describe(): string;
  /** Releases kept-alive connections. */
  close(): Promise<void>;
}

export interface SinkOptions {
  /** Sent as `X-Worker-Id`. */
  workerId: string;
  /** Sent as `Authorization: Bearer <apiKey>` when set. */
  apiKey?: string | undefined;
  /** Extra CA certificates for https outputs (node's defaults plus these). */
  ca?: Buffer | undefined;
  /** How long an HTTP attempt may stay silent before it counts as failed (default 30 s). */
  timeoutMs?: number;
  log: Logger;
}

const DEFAULT_HTTP_PATH = '/results';

/**
 * The sink an output setting names: `http(s)://host[:port][/path]` (path `/results` when none is given),
 * `unix:///run/x.sock` or `unix:///run/x.sock:/path` (HTTP over a unix socket), `file:///path` or a plain
 * path (NDJSON appended to a file).
 */
export function createResultSink(output: string, opts: SinkOptions): ResultSink {
  const outputs = splitUpstreams(output);
  if (outputs.length > 1) return failoverSink(outputs.map((o) => createResultSink(o, opts)));
  if (/^https?:\/\//i.test(output)) {
    const url = new URL(output);
    if (url.pathname === '/') url.pathname = DEFAULT_HTTP_PATH;
    return createHttpSink({ url }, opts);
  }
  if (/^unix:\/\//i.test(output)) {
    const rest = output.slice('unix://'.length);
    const colon = rest.indexOf(':');
    const socketPath = colon === -1 ? rest : rest.slice(0, colon);
    const path = colon === -1 ? DEFAULT_HTTP_PATH : rest.slice(colon + 1);
    if (!socketPath.startsWith('/') || !path.startsWith('/'))
      throw new Error(`invalid output ${output}: expected unix:///path/to.sock or unix:///path/to.sock:/http/path`);
    return createHttpSink({ socketPath, path }, opts);
  }
  if (/^file:\/\//i.test(output)) return createFileSink(fileURLToPath(output));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(output))
    throw new Error(`invalid output ${output}: expected an http(s)://, unix:// or file:// URL, or a file path`);
  return createFileSink(resolvePath(output));
}

/**
 * Several receivers, comma-separated: a batch goes to the one that last took a batch, and to the next ones
 * in order when it fails (an instance down, a 5xx). A 413 is the batch's fault, not the receiver's: no other
 * is tried, so the delivery splits the batch as it does with one receiver.
 */
function failoverSink(sinks: ResultSink[]): ResultSink {
  let current = 0;
  return {
    describe: () => sinks.map((s) => s.describe()).join(', '),
    close: async () => void (await Promise.all(sinks.map((s) => s.close()))),
    async send(batch, signal) {
      const reasons: string[] = [];
      let last: SendOutcome | undefined;
      // A 5xx from any of them, even if another was unreachable, may be the batch's fault (find-poison.ts).
      let status: number | undefined;
      let answered = false;
      for (let tried = 0; tried < sinks.length; tried++) {
        const i = (current + tried) % sinks.length;
        last = await sinks[i]!.send(batch, signal);
        if (last.ok || last.permanent === 'batch') {
          current = i;
          return last;
        }
        reasons.push(last.reason);
        if (!last.unreachable) answered = true;
        if (
          last.status !== undefined &&
          last.status >= 500 &&
          !(last.status === 503 && last.retryAfterMs !== undefined)
        )
          status = last.status;
        if (signal?.aborted) break;
      }
      current = (current + 1) % sinks.length;
      const out = { ...last!, reason: reasons.join('; '), ...(status !== undefined && { status }) } as Extract<
        SendOutcome,
        { ok: false }
      >;
      if (answered) delete out.unreachable;
      else out.unreachable = true;
      return out;
    },
  };
}
