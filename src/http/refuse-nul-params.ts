import type { RequestHandler } from 'express';
import { badRequest } from './http-error.js';

/**
 * A NUL byte (`%00`) anywhere in the path or the query string is a 400: PostgreSQL text refuses NUL, so
 * such a parameter could only ever fail later, deeper and as a 500. The raw URL is checked, so path
 * parameters (decoded by the router later) are covered as well as the query.
 */
export const refuseNulParams: RequestHandler = (req, _res, next) => {
  // eslint-disable-next-line no-control-regex -- a raw NUL in the URL is exactly what this refuses
  if (/%00|\u0000/i.test(req.url))
    next(badRequest('invalid_parameter', 'a NUL byte (%00) is not allowed in the path or query'));
  else next();
};
