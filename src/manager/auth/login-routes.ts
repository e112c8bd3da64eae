import type { Express, Request, Response } from 'express';
import type { RateLimiterPostgres } from 'rate-limiter-flexible';
import type { Pool } from '../../db/create-pool.js';
import type { Logger } from '../../log/create-logger.js';
import { findUser } from '../users/find-user.js';
import { acceptTotpStep } from '../users/accept-totp-step.js';
import { logSafeName, normaliseLoginName } from '../users/user-name.js';
import { openUserSecret } from '../users/user-secret.js';
import { renderPage } from '../ui/render-page.js';
import { loginCodeForm, loginNameForm } from '../ui/login-pages.js';
import { logAuthFailure, type AuthFailureReason } from './auth-failures.js';
import { addressBucket, clientAddress } from './client-address.js';
import { csrfToken } from './csrf.js';
import { rateLimit } from './rate-limits.js';
import { SESSION_COOKIE } from './sessions.js';
import { checkTotp, newTotpSecret } from './totp.js';

/** How long step 2 may follow step 1. */
export const PENDING_LOGIN_MS = 5 * 60_000;

export interface LoginRoutesOptions {
  pool: Pool;
  serverKey: Buffer;
  log: Logger;
  /** Counts every POST of either step per client address, across all instances. */
  loginLimiter: RateLimiterPostgres;
}

const regenerate = (req: Request) => new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));

/**
 * Saves the session, then redirects. express-session sends a response's headers before its own save has
 * finished, so a browser following the redirect could read the session as it was (seen under load: the
 * pending login step lost between POST /login and GET /login/totp).
 */
const saveThenRedirect = async (req: Request, res: Response, url: string) => {
  await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
  res.redirect(303, url);
};

/** GET/POST /login (name), GET/POST /login/totp (code), POST /logout. */
export function loginRoutes(app: Express, opts: LoginRoutesOptions): void {
  const log = opts.log.child({ module: 'auth' });
  // A code checked for a name that does not exist, so unknown users take as long as known ones.
  const decoySecret = newTotpSecret();

  const typedName = (req: Request): string | undefined => (req.path === '/login' ? String(req.body?.name ?? '') : req.session.pendingLogin?.name) || undefined;
  const limited = rateLimit(
    opts.loginLimiter,
    (req) => `ip:${addressBucket(clientAddress(req))}`,
    (req) => logAuthFailure(log, { ip: clientAddress(req), user: logSafeName(typedName(req)), reason: 'rate_limited' }),
  );

  const namePage = (req: Request, res: Response, status = 200, flash?: string) =>
    renderPage(req, res, { title: 'Log in', body: loginNameForm(csrfToken(req)), status, flash: flash ? { kind: 'error', message: flash } : undefined });
  const codePage = (req: Request, res: Response, name: string, status = 200, flash?: string) =>
    renderPage(req, res, { title: 'Log in', body: loginCodeForm(csrfToken(req), name), status, flash: flash ? { kind: 'error', message: flash } : undefined });

  app.get('/login', (req, res) => {
    if (req.session.user) return res.redirect(303, '/');
    namePage(req, res);
  });

  app.post('/login', limited, async (req, res) => {
    const name = normaliseLoginName(String(req.body?.name ?? ''));
    if (!name) return namePage(req, res, 400, 'Enter your user name.');
    // Stored whether or not the user exists; longer than any valid name, so a cut never matches another user.
    req.session.pendingLogin = { name: name.slice(0, 128), at: Date.now() };
    await saveThenRedirect(req, res, '/login/totp');
  });

  app.get('/login/totp', (req, res) => {
    const pending = req.session.pendingLogin;
    if (!pending) return res.redirect(303, '/login');
    codePage(req, res, pending.name);
  });

  app.post('/login/totp', limited, async (req, res) => {
    const ip = clientAddress(req);
    const pending = req.session.pendingLogin;
    const fail = (reason: AuthFailureReason) => {
      logAuthFailure(log, { ip, user: logSafeName(pending?.name), reason });
      codePage(req, res, pending!.name, 401, 'Wrong or already used code. Wait for the next code and try again.');
    };
    if (!pending || Date.now() - pending.at > PENDING_LOGIN_MS) {
      logAuthFailure(log, { ip, user: logSafeName(pending?.name), reason: 'expired_step' });
      delete req.session.pendingLogin;
      return namePage(req, res, 401, 'The login took too long. Start again.');
    }
    const code = String(req.body?.code ?? '').replace(/\s/g, '');
    const user = await findUser(opts.pool, pending.name);
    if (!user) {
      await checkTotp(decoySecret, code);
      return fail('unknown_user');
    }
    const check = await checkTotp(openUserSecret(opts.serverKey, user.name, user), code);
    if (!check.ok) return fail('bad_code');
    if (!(await acceptTotpStep(opts.pool, user.id, check.step))) return fail('replayed_code');

    // A new session id at login, so an id planted before it (session fixation) is worth nothing.
    await regenerate(req);
    req.session.user = { id: user.id, name: user.name };
    req.session.loggedInAt = Date.now();
    csrfToken(req);
    log.info({ event: 'login', ip, user: user.name }, `login ip=${ip} user=${user.name}`);
    await saveThenRedirect(req, res, '/');
  });

  app.post('/logout', (req, res, next) => {
    const user = req.session.user?.name;
    // Deletes the row, so the session ends on every instance at once.
    req.session.destroy((err) => {
      if (err) return next(err);
      if (user) log.info({ event: 'logout', user }, `logout user=${user}`);
      res.clearCookie(SESSION_COOKIE, { path: '/' });
      res.redirect(303, '/login');
    });
  });
}
