/** A field-level problem, e.g. `{ path: 'targets[3]', message: 'not an IPv4 or IPv6 address' }`. */
export interface ErrorDetail {
  path: string;
  message: string;
}

/**
 * The one error every HTTP service answers with, rendered as `{"error":{"code","message","details"?}}`.
 * `code` is stable and machine-readable; `message` says what was wrong and where, for a person.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string, details?: ErrorDetail[]) =>
  new HttpError(400, code, message, details);
export const notFound = (message: string) => new HttpError(404, 'not_found', message);
export const serviceUnavailable = (message: string) => new HttpError(503, 'unavailable', message);
