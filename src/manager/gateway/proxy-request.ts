import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { HttpError } from '../../http/http-error.js';
import type { Logger } from '../../log/create-logger.js';
import { downstreamHeaders, upstreamHeaders } from './forwarded-headers.js';
import type { UpstreamType } from './find-upstreams.js';
import { BodyTooLarge, ClientGone, RequestBody, type BodyLimits } from './request-body.js';
import type { UpstreamPicker } from './upstream-picker.js';

/** An instance that answers these is not serving now; another may be (results and hops are idempotent by id and address). */
const RETRY_STATUSES = new Set([502, 503, 504]);
const ATTEMPTS = 2;

export interface ProxyDeps {
  picker: UpstreamPicker;
  agents: { http: http.Agent; https: https.Agent };
  limits: BodyLimits;
  /** How long an upstream may stay silent (default 30 s, the worker's own timeout). */
  timeoutMs: number;
  log: Logger;
  onRetry?: (type: UpstreamType) => void;
}

type Attempt = { response: http.IncomingMessage; request: http.ClientRequest } | { error: Error; timedOut: boolean };

/**
 * Forwards one request to an instance of `type` at `path` (the query string kept), trying a second instance
 * when the first cannot be reached or answers 502/503/504. The answer (status, headers, body) is streamed
 * back as it comes; the last instance's error answer is passed through as it is.
 */
export async function proxyRequest(
  req: Request,
  res: Response,
  type: UpstreamType,
  path: string,
  deps: ProxyDeps,
): Promise<void> {
  const key = req.apiKey!;
  const upstreams = (await deps.picker.order(type)).slice(0, ATTEMPTS);
  if (upstreams.length === 0) {
    // Answered here, not thrown: the error handler would set its own Retry-After (5 s, for a database restart).
    const message = `no healthy ${type} instance is known to the manager: start one on this database, or register one on /workers`;
    res.status(503).setHeader('Retry-After', '30');
    res.json({ error: { code: 'no_upstream', message } });
    return;
  }
  const body = RequestBody.of(req, deps.limits);
  const headers = upstreamHeaders(req, key, body.wasParsed ? body.length : undefined);
  const search = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
  const failures: string[] = [];

  for (const [i, base] of upstreams.entries()) {
    const last = i === upstreams.length - 1;
    const attempt = await send(new URL(`${base}${path}${search}`), req.method, headers, body, deps);
    if ('error' in attempt) {
      if (attempt.error instanceof BodyTooLarge || attempt.error instanceof ClientGone) throw attempt.error;
      deps.picker.markFailed(base);
      failures.push(`${base}: ${attempt.error.message}`);
      if (attempt.timedOut)
        throw new HttpError(504, 'upstream_timeout', `the ${type} instance did not answer within ${deps.timeoutMs} ms`);
      if (!last && (await body.replayable())) {
        deps.log.warn(
          { upstream: base, err: { message: attempt.error.message } },
          'upstream unreachable; trying another',
        );
        deps.onRetry?.(type);
        continue;
      }
      throw new HttpError(502, 'upstream_unreachable', `no ${type} instance could be reached: ${failures.join('; ')}`);
    }
    const answer = attempt.response;
    if (RETRY_STATUSES.has(answer.statusCode ?? 0) && !last && (await body.replayable())) {
      deps.picker.markFailed(base);
      deps.log.warn(
        { upstream: base, status: answer.statusCode },
        'upstream answered a retryable status; trying another',
      );
      attempt.request.destroy(); // its body may be half sent: drop the connection rather than reuse it
      deps.onRetry?.(type);
      continue;
    }
    if ((answer.statusCode ?? 0) < 500) deps.picker.markOk(base);
    res.status(answer.statusCode ?? 502);
    for (const [name, value] of Object.entries(downstreamHeaders(answer.headers)))
      if (value !== undefined) res.setHeader(name, value);
    await pipeline(answer, res).catch((err: Error) =>
      deps.log.debug({ err: { message: err.message } }, 'gateway answer cut short'),
    );
    // An upstream may answer before reading the whole body; a request left half sent would hold its socket.
    if (!attempt.request.writableFinished) attempt.request.destroy();
    return;
  }
}

/** One request to one upstream; the body goes out once the connection stands, so a refused connection leaves it unread. */
function send(
  url: URL,
  method: string,
  headers: http.OutgoingHttpHeaders,
  body: RequestBody,
  deps: ProxyDeps,
): Promise<Attempt> {
  return new Promise((resolve) => {
    const secure = url.protocol === 'https:';
    let timedOut = false;
    const up = (secure ? https : http).request(url, {
      method,
      headers,
      agent: secure ? deps.agents.https : deps.agents.http,
      timeout: deps.timeoutMs,
    });
    up.once('response', (response) => resolve({ response, request: up }));
    up.on('error', (error) => resolve({ error, timedOut })); // on, not once: a late second error must not go unhandled
    up.once('timeout', () => {
      timedOut = true;
      up.destroy(new Error(`no answer within ${deps.timeoutMs} ms`));
    });
    if (body.empty) return void up.end();
    up.once('socket', (socket) => {
      if (!socket.connecting) return body.sendTo(up);
      socket.once('connect', () => body.sendTo(up));
    });
  });
}
