import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { VERSION } from '../version.js';
import type { RejectedItem, ResultSink, SendOutcome, SinkOptions } from './result-sinks.js';

export type HttpTarget = { url: URL } | { socketPath: string; path: string };

/** Enough of an answer body to read the ingest summary or an error message; the rest is drained unread. */
const MAX_ANSWER_BYTES = 256 * 1024;

/**
 * POSTs each batch as a JSON array, over TCP (http, https) or a unix socket. One kept-alive connection:
 * on a 4G link a new TLS handshake per batch would cost more than the batch.
 */
export function createHttpSink(target: HttpTarget, opts: SinkOptions): ResultSink {
  const secure = 'url' in target && target.url.protocol === 'https:';
  const agent = secure
    ? new https.Agent({
        keepAlive: true,
        maxSockets: 1,
        ...(opts.ca ? { ca: [...tls.rootCertificates, opts.ca.toString('utf8')] } : {}),
      })
    : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const where =
    'url' in target ? `${target.url.origin}${target.url.pathname}` : `unix://${target.socketPath}:${target.path}`;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-worker-id': opts.workerId,
    'user-agent': `hopmap-worker/${VERSION}`,
  };
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;

  return {
    describe: () => where,
    close: () => {
      agent.destroy();
      return Promise.resolve();
    },
    send(batch, signal) {
      const body = Buffer.from(JSON.stringify(batch), 'utf8');
      return new Promise<SendOutcome>((resolve) => {
        const fail = (err: Error) => resolve({ ok: false, reason: `${where}: ${err.message}` });
        // No answer at all (refused, unreachable, silent): the output is away, not busy.
        const unreachable = (err: Error) =>
          resolve({ ok: false, reason: `${where}: ${err.message}`, unreachable: true });
        const requestOpts = {
          method: 'POST',
          agent,
          headers: { ...headers, 'content-length': String(body.length) },
          signal,
          timeout: timeoutMs,
        };
        let answered = false;
        const onAnswer = (res: http.IncomingMessage) => {
          answered = true;
          const chunks: Buffer[] = [];
          let kept = 0;
          res.on('data', (c: Buffer) => {
            if (kept < MAX_ANSWER_BYTES) chunks.push(c);
            kept += c.length;
          });
          res.on('error', fail);
          res.on('end', () =>
            resolve(
              interpretAnswer(res.statusCode ?? 0, res.headers['retry-after'], Buffer.concat(chunks).toString('utf8')),
            ),
          );
        };
        const req =
          'url' in target
            ? (secure ? https : http).request(target.url, requestOpts, onAnswer)
            : http.request({ ...requestOpts, socketPath: target.socketPath, path: target.path }, onAnswer);
        req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', (err) => (answered ? fail(err) : unreachable(err)));
        req.end(body);
      });
    },
  };
}

/**
 * 2xx: stored. 408, 429, 5xx: try again later. A 4xx whose body is the ingest summary
 * (`{"accepted","duplicate","rejected","errors":[{"index",...}]}`) means the valid items are stored and
 * the named ones would be refused forever, so the batch counts as delivered, unless the answer says the
 * body was not read to its end (`read_all: false`). 413: too big, split it.
 * Any other 4xx (bad API key, wrong URL): keep the results until an operator fixes it.
 */
export function interpretAnswer(
  status: number,
  retryAfter: string | undefined,
  text: string,
  now = Date.now(),
): SendOutcome {
  const body = parseJson(text);
  if (status >= 200 && status < 300) return { ok: true, rejected: rejectedItems(body) };
  const reason = `HTTP ${status}${errorMessage(body, text)}`;
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    return retryAfterMs === undefined ? { ok: false, reason, status } : { ok: false, reason, retryAfterMs, status };
  }
  // Checked before the summary: an output that stopped reading part-way (413, too much bad input) stored only
  // what came before the cut, so the batch goes again in smaller pieces (what was stored is a duplicate then).
  if (status === 413 || (isIngestSummary(body) && (body as { read_all?: unknown }).read_all === false))
    return { ok: false, reason, permanent: 'batch' };
  if (status >= 400 && isIngestSummary(body)) return { ok: true, rejected: rejectedItems(body) };
  return { ok: false, reason: `${reason}${keyRefusal(status, 'post results')}`, permanent: 'receiver' };
}

/** What a worker's operator should do about a 401 or 403; empty for any other status. */
export function keyRefusal(status: number, what: string): string {
  if (status === 401)
    return ` (no usable api_key: set api_key in the worker config to an active key of role worker, made by hopmap keys add NAME --role worker)`;
  if (status === 403)
    return ` (this worker's api_key may not ${what}: it needs role worker, made by hopmap keys add NAME --role worker)`;
  return '';
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isIngestSummary(body: unknown): body is { errors?: unknown; rejected?: unknown } {
  return (
    typeof body === 'object' &&
    body !== null &&
    (Array.isArray((body as { errors?: unknown }).errors) ||
      typeof (body as { rejected?: unknown }).rejected === 'number')
  );
}

function rejectedItems(body: unknown): RejectedItem[] | undefined {
  if (!isIngestSummary(body) || !Array.isArray(body.errors)) return undefined;
  const items = body.errors
    .filter(
      (e): e is { index: number } =>
        typeof e === 'object' && e !== null && Number.isInteger((e as { index?: unknown }).index),
    )
    .map((e) => ({ index: e.index, error: e }));
  return items.length ? items : undefined;
}

function errorMessage(body: unknown, text: string): string {
  const err = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (err && typeof err.message === 'string')
    return `: ${typeof err.code === 'string' ? `${err.code}: ` : ''}${err.message}`;
  const line = text.trim().split('\n', 1)[0]?.slice(0, 200);
  return line ? `: ${line}` : '';
}
