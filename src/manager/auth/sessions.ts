import connectPgSimple from 'connect-pg-simple';
import type { RequestHandler } from 'express';
import session from 'express-session';
import type { Pool } from '../../db/create-pool.js';
import type { Logger } from '../../log/create-logger.js';
import { deriveKey } from '../crypto/server-key.js';

declare module 'express-session' {
  interface SessionData {
    /** Set at login; only signed-in users have a session (the login steps keep theirs in signed cookies). */
    user: { id: number; name: string };
    /** When the user logged in (ms since the epoch), for the absolute timeout. */
    loggedInAt: number;
    csrfToken: string;
  }
}

export const SESSION_COOKIE = 'hopmap.sid';

export interface SessionOptions {
  pool: Pool;
  serverKey: Buffer;
  /** Rolling: each request pushes the expiry this far out again. */
  idleTimeoutMs: number;
  /** Always mark the cookie Secure (behind a TLS-terminating proxy); otherwise Secure exactly when the request came over TLS. */
  cookieSecure: boolean;
  log: Logger;
}

/**
 * Sessions kept in PostgreSQL (manager_sessions), so any instance answers any request and a logout or an
 * expiry holds on all of them. The cookie is signed with a key derived from SERVER_KEY, so every instance
 * signs alike. SameSite=Lax, not Strict: Strict would drop the cookie when a person follows a link to the
 * manager from mail or chat (they would land on the login page); GET changes nothing here, and every
 * POST needs the CSRF token anyway, so Strict would add nothing.
 */
export function sessionMiddleware(opts: SessionOptions): RequestHandler {
  const PgStore = connectPgSimple(session);
  const log = opts.log.child({ module: 'sessions' });
  const store = new PgStore({
    pool: opts.pool,
    schemaName: 'manager',
    tableName: 'manager_sessions',
    createTableIfMissing: false,
    // No timer per instance: the prune_manager_state cron job deletes expired rows once cluster-wide.
    pruneSessionInterval: false,
    errorLog: (...args: unknown[]) => log.error({ args }, 'session store error'),
  });
  return session({
    name: SESSION_COOKIE,
    secret: deriveKey(opts.serverKey, 'manager session cookie').toString('base64'),
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    unset: 'destroy',
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: opts.cookieSecure ? true : 'auto',
      maxAge: opts.idleTimeoutMs,
      path: '/',
    },
  });
}

/**
 * Ends a signed-in session older than the absolute timeout, however busy: rolling expiry alone would let it
 * live for ever. (The idle timeout needs no code here: the store no longer returns a session whose expiry,
 * pushed out by every request, has passed; it keeps expiry to the second.)
 */
export function absoluteTimeout(timeoutMs: number): RequestHandler {
  return (req, _res, next) => {
    const s = req.session;
    if (!s.user || (s.loggedInAt ?? 0) + timeoutMs > Date.now()) return next();
    // A new, empty session: the old row is deleted, so every instance forgets it.
    s.regenerate(next);
  };
}
