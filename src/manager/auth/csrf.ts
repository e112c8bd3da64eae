import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { HttpError } from '../../http/http-error.js';
import { SESSION_COOKIE } from './sessions.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The session's CSRF token, made on first use. */
export function csrfToken(req: Request): string {
  req.session.csrfToken ??= randomBytes(32).toString('base64url');
  return req.session.csrfToken;
}

function hasSessionCookie(req: Request): boolean {
  return (req.headers.cookie ?? '').split(';').some((c) => c.trim().startsWith(`${SESSION_COOKIE}=`));
}

function sameToken(sent: unknown, expected: string | undefined): boolean {
  if (typeof sent !== 'string' || !expected) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Synchronizer-token CSRF protection: every POST, PUT, PATCH and DELETE carries the session's token as the
 * form field `_csrf` (or the header `X-CSRF-Token`), else 403. A request with no session cookie and an
 * Authorization header is exempt: an API key is not sent by a browser on its own, so it cannot be forged
 * across sites. Pages read the token as `res.locals.csrfToken`, which makes it on first read, so requests
 * that render no form (scanners' 404s) do not each store a session.
 */
export const csrfProtection: RequestHandler = (req, res, next) => {
  Object.defineProperty(res.locals, 'csrfToken', { get: () => csrfToken(req), enumerable: true, configurable: true });
  if (SAFE_METHODS.has(req.method)) return next();
  if (!hasSessionCookie(req) && req.headers.authorization) return next();
  const sent = (req.body as Record<string, unknown> | undefined)?._csrf ?? req.get('x-csrf-token');
  if (!sameToken(sent, req.session.csrfToken)) {
    return next(new HttpError(403, 'csrf_failed', 'missing or wrong CSRF token: reload the page and submit the form again'));
  }
  next();
};
