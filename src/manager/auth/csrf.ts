import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { HttpError } from '../../http/http-error.js';
import { SESSION_COOKIE } from './sessions.js';
import { anonymousCookie, cookieSigner, readCookie } from './signed-cookie.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const LOGIN_CSRF_COOKIE = 'hopmap.csrf';

/** The signed-in session's CSRF token, made on first use. */
export function sessionCsrfToken(req: Request): string {
  req.session.csrfToken ??= randomBytes(32).toString('base64url');
  return req.session.csrfToken;
}

function hasSessionCookie(req: Request): boolean {
  return readCookie(req, SESSION_COOKIE) !== undefined;
}

function sameToken(sent: unknown, expected: string | undefined): boolean {
  if (typeof sent !== 'string' || !expected) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface CsrfOptions {
  serverKey: Buffer;
  cookieSecure: boolean;
}

/**
 * CSRF protection on every POST, PUT, PATCH and DELETE: the form field `_csrf` (or the header `X-CSRF-Token`)
 * must carry the token, else 403. A signed-in user's token is the session's (a synchronizer token). An anonymous
 * visitor (the login forms) has no session, so as not to store a row for every visitor: the token is a random
 * nonce signed with a key derived from the server key, sent both as the SameSite=Strict cookie hopmap.csrf and in
 * the form (a signed double submit); another site can neither read the cookie nor make a valid one.
 * A request with no session cookie and an Authorization header is exempt: an API key is not sent by a browser
 * on its own, so it cannot be forged across sites. Pages read the token as `res.locals.csrfToken`, made on
 * first read, so requests that render no form set no cookie.
 */
export function csrfProtection(opts: CsrfOptions): RequestHandler {
  const signer = cookieSigner(opts.serverKey, 'manager login csrf');
  const validCookie = (req: Request): string | undefined => {
    const cookie = readCookie(req, LOGIN_CSRF_COOKIE);
    return signer.verify(cookie) ? cookie : undefined;
  };
  const anonymousToken = (req: Request, res: Response): string => {
    let token = (res.locals.loginCsrf as string | undefined) ?? validCookie(req);
    if (!token) {
      token = signer.sign(randomBytes(24).toString('base64url'));
      res.cookie(LOGIN_CSRF_COOKIE, token, anonymousCookie(req, opts.cookieSecure));
    }
    res.locals.loginCsrf = token;
    return token;
  };

  return (req, res, next) => {
    Object.defineProperty(res.locals, 'csrfToken', {
      get: () => (req.session?.user ? sessionCsrfToken(req) : anonymousToken(req, res)),
      enumerable: true,
      configurable: true,
    });
    if (SAFE_METHODS.has(req.method)) return next();
    if (!hasSessionCookie(req) && req.headers.authorization) return next();
    const sent = (req.body as Record<string, unknown> | undefined)?._csrf ?? req.get('x-csrf-token');
    const expected = req.session?.user ? req.session.csrfToken : validCookie(req);
    if (!sameToken(sent, expected)) {
      return next(
        new HttpError(403, 'csrf_failed', 'missing or wrong CSRF token: reload the page and submit the form again'),
      );
    }
    next();
  };
}
