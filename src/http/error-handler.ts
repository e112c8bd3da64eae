import type { ErrorRequestHandler, RequestHandler } from 'express';
import { isTransientDatabaseError } from '../db/transient-errors.js';
import type { Logger } from '../log/create-logger.js';
import { HttpError } from './http-error.js';

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

/** What body-parser's errors (and the decompression errors it wraps) carry besides a message. */
interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
  length?: number;
  code?: string;
  message: string;
}

/** body-parser's errors carry a `type`; map them onto our codes so clients see one error shape. */
function fromBodyParser(thrown: unknown): HttpError | undefined {
  if (!thrown || typeof thrown !== 'object') return undefined;
  const err = thrown as BodyParserError;
  switch (err.type) {
    case 'entity.too.large':
      return new HttpError(
        413,
        'payload_too_large',
        `request body of ${err.length ?? '?'} bytes exceeds the limit of ${err.limit} bytes`,
      );
    case 'entity.parse.failed':
      return new HttpError(400, 'invalid_json', `request body is not valid JSON: ${err.message}`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_encoding', err.message);
    case 'request.aborted':
      return new HttpError(400, 'request_aborted', 'the client closed the connection before the body was complete');
    default:
      // A decompression error (zlib's Z_*, brotli's ERR_*) wrapped by body-parser as a 400 without a type.
      if (err.status === 400 && typeof err.code === 'string' && /^(Z_|ERR_)/.test(err.code))
        return new HttpError(400, 'invalid_encoding', `the body could not be decompressed: ${err.message}`);
      return undefined;
  }
}

/** The database restarting is not a bug: answer 503 so clients and load balancers retry. */
function fromDatabase(err: unknown): HttpError | undefined {
  if (!isTransientDatabaseError(err)) return undefined;
  return new HttpError(503, 'database_unavailable', 'the database is unavailable right now; retry shortly');
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- Express knows an error handler by its four parameters
  return (err: unknown, req, res, _next) => {
    const known = err instanceof HttpError ? err : (fromBodyParser(err) ?? fromDatabase(err));
    const error = known ?? new HttpError(500, 'internal', 'internal error; the server log has the details');
    if (!known) log.error({ err, method: req.method, path: req.path }, 'request failed');
    else if (error.status === 503)
      log.warn({ err: codeAndMessage(err), path: req.path }, 'request failed: database unavailable');
    if (error.status === 503) res.setHeader('Retry-After', '5');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(error.status).json({
      error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
    });
  };
}

/** The `code` and `message` of what was thrown (an HttpError or a database error here), for a short log line. */
function codeAndMessage(err: unknown): { code: unknown; message: unknown } {
  const { code, message } = err && typeof err === 'object' ? (err as { code?: unknown; message?: unknown }) : {};
  return { code, message };
}
