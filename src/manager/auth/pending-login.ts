import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { anonymousCookie, cookieSigner, readCookie } from './signed-cookie.js';

/** How long step 2 may follow step 1. */
export const PENDING_LOGIN_MS = 5 * 60_000;
const PENDING_COOKIE = 'hopmap.login';

/** Between the two login steps: the name typed at step 1, when, and an id that counts this login's tries. */
export interface PendingLogin {
  name: string;
  at: number;
  id: string;
}

/**
 * The pending login kept in a signed cookie rather than a session, so step 1 stores no row for a visitor who
 * is not (yet) anyone. The cookie proves only that this server issued the step; the tries made with it are
 * counted in PostgreSQL by `id`, since a client can keep sending a cookie it was told to forget.
 */
export function pendingLoginCookie(serverKey: Buffer, cookieSecure: boolean) {
  const signer = cookieSigner(serverKey, 'manager pending login');
  return {
    start(req: Request, res: Response, name: string): void {
      const pending: PendingLogin = { name, at: Date.now(), id: randomBytes(16).toString('base64url') };
      const value = signer.sign(Buffer.from(JSON.stringify(pending)).toString('base64url'));
      res.cookie(
        PENDING_COOKIE,
        value,
        anonymousCookie(req, cookieSecure, { path: '/login', maxAge: PENDING_LOGIN_MS }),
      );
    },
    read(req: Request): PendingLogin | undefined {
      const value = signer.verify(readCookie(req, PENDING_COOKIE));
      if (!value) return undefined;
      const p = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as PendingLogin;
      return typeof p.name === 'string' && typeof p.at === 'number' && typeof p.id === 'string' ? p : undefined;
    },
    end(req: Request, res: Response): void {
      res.clearCookie(PENDING_COOKIE, anonymousCookie(req, cookieSecure, { path: '/login' }));
    },
  };
}
