import type { Express, Request, Response } from 'express';
import { RateLimiterRes, type RateLimiterPostgres } from 'rate-limiter-flexible';
import type { Pool } from '../../db/create-pool.js';
import { formText } from '../../http/form-field.js';
import { HttpError } from '../../http/http-error.js';
import type { Logger } from '../../log/create-logger.js';
import { findUser } from '../users/find-user.js';
import { acceptTotpStep } from '../users/accept-totp-step.js';
import { logSafeName, normaliseLoginName } from '../users/user-name.js';
import { openUserSecret } from '../users/user-secret.js';
import { renderPage } from '../ui/render-page.js';
import { loginCodeForm, loginNameForm } from '../ui/login-pages.js';
import { logAuthFailure, type AuthFailureReason } from './auth-failures.js';
import { addressBucket, clientAddress } from './client-address.js';
import { sessionCsrfToken } from './csrf.js';
import { PENDING_LOGIN_MS, pendingLoginCookie } from './pending-login.js';
import { rateLimit } from './rate-limits.js';
import { SESSION_COOKIE } from './sessions.js';
import { checkTotp, newTotpSecret } from './totp.js';

export interface LoginRoutesOptions {
  pool: Pool;
  serverKey: Buffer;
  cookieSecure: boolean;
  log: Logger;
  /** Counts every POST of either step per client address, across all instances. */
  loginLimiter: RateLimiterPostgres;
  /** Counts codes tried for one user name, from every address and instance (see docs/security.md#login-limits). */
  userLimiter: RateLimiterPostgres;
  /** Counts codes tried within one pending login; its points are the tries one pending login allows. */
  pendingLimiter: RateLimiterPostgres;
}

const regenerate = (req: Request) =>
  new Promise<void>((resolve, reject) =>
    req.session.regenerate((err?: Error | null) => (err ? reject(err) : resolve())),
  );

/**
 * Saves the session, then redirects. express-session sends a response's headers before its own save has
 * finished, so a browser following the redirect could read the session as it was (seen under load).
 */
const saveThenRedirect = async (req: Request, res: Response, url: string) => {
  await new Promise<void>((resolve, reject) =>
    req.session.save((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  res.redirect(303, url);
};

/** Spends one point, or returns how long until the next one when there is none left. */
async function spend(
  limiter: RateLimiterPostgres,
  key: string,
): Promise<{ ok: true; left: number } | { ok: false; retryAfterS: number }> {
  try {
    return { ok: true, left: (await limiter.consume(key)).remainingPoints };
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
    return { ok: false, retryAfterS: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
  }
}

/**
 * GET/POST /login (name), GET/POST /login/totp (code), POST /logout. Until step 2 succeeds nothing is stored
 * for the visitor but rate-limit counters: the pending login is a signed cookie.
 */
export function loginRoutes(app: Express, opts: LoginRoutesOptions): void {
  const log = opts.log.child({ module: 'auth' });
  // A code checked for a name that does not exist, so unknown users take as long as known ones.
  const decoySecret = newTotpSecret();
  const pendingLogin = pendingLoginCookie(opts.serverKey, opts.cookieSecure);

  const typedName = (req: Request): string | undefined =>
    (req.path === '/login' ? formText(req.body, 'name') : pendingLogin.read(req)?.name) || undefined;
  const limited = rateLimit(
    opts.loginLimiter,
    (req) => `ip:${addressBucket(clientAddress(req))}`,
    (req) => logAuthFailure(log, { ip: clientAddress(req), user: logSafeName(typedName(req)), reason: 'rate_limited' }),
  );

  const flashOf = (message?: string) => (message ? { kind: 'error' as const, message } : undefined);
  const namePage = (req: Request, res: Response, status = 200, flash?: string) =>
    renderPage(req, res, {
      title: 'Log in',
      body: loginNameForm(res.locals.csrfToken as string),
      status,
      flash: flashOf(flash),
    });
  const codePage = (req: Request, res: Response, name: string, status = 200, flash?: string) =>
    renderPage(req, res, {
      title: 'Log in',
      body: loginCodeForm(res.locals.csrfToken as string, name),
      status,
      flash: flashOf(flash),
    });

  app.get('/login', (req, res) => {
    if (req.session.user) return res.redirect(303, '/');
    namePage(req, res);
  });

  app.post('/login', limited, (req, res) => {
    const name = normaliseLoginName(formText(req.body, 'name'));
    // No user name holds a control character, and PostgreSQL refuses a NUL: such a name is no name at all.
    if (!name || /\p{Cc}/u.test(name)) return namePage(req, res, 400, 'Enter your user name.');
    // Whether or not the user exists; longer than any valid name, so a cut never matches another user.
    pendingLogin.start(req, res, name.slice(0, 128));
    res.redirect(303, '/login/totp');
  });

  app.get('/login/totp', (req, res) => {
    const pending = pendingLogin.read(req);
    if (!pending) return res.redirect(303, '/login');
    codePage(req, res, pending.name);
  });

  app.post('/login/totp', limited, async (req, res) => {
    const ip = clientAddress(req);
    const pending = pendingLogin.read(req);
    const failed = (reason: AuthFailureReason) => logAuthFailure(log, { ip, user: logSafeName(pending?.name), reason });
    if (!pending || Date.now() - pending.at > PENDING_LOGIN_MS) {
      failed('expired_step');
      pendingLogin.end(req, res);
      return namePage(req, res, 401, 'The login took too long. Start again.');
    }
    // Counted by the name typed, whether or not it exists, so a 429 tells nobody which names do.
    const userKey = `user:${pending.name}`;
    const perUser = await spend(opts.userLimiter, userKey);
    if (!perUser.ok) {
      failed('user_rate_limited');
      res.setHeader('Retry-After', String(perUser.retryAfterS));
      throw new HttpError(
        429,
        'rate_limited',
        `too many wrong codes for this user from all addresses; retry in ${perUser.retryAfterS} s`,
      );
    }
    const tries = await spend(opts.pendingLimiter, `pending:${pending.id}`);
    const startAgain = () => {
      pendingLogin.end(req, res);
      namePage(req, res, 401, 'Too many wrong codes for this login. Start again.');
    };
    if (!tries.ok) {
      failed('too_many_tries');
      return startAgain();
    }
    const fail = (reason: AuthFailureReason) => {
      failed(reason);
      if (tries.left === 0) return startAgain();
      codePage(req, res, pending.name, 401, 'Wrong or already used code. Wait for the next code and try again.');
    };

    const code = formText(req.body, 'code').replace(/\s/g, '');
    const user = await findUser(opts.pool, pending.name);
    if (!user) {
      await checkTotp(decoySecret, code);
      return fail('unknown_user');
    }
    const check = await checkTotp(openUserSecret(opts.serverKey, user.name, user), code);
    if (!check.ok) return fail('bad_code');
    if (!(await acceptTotpStep(opts.pool, user.id, check.step))) return fail('replayed_code');

    // Only wrong codes count against the user: the right one gives its point back.
    await opts.userLimiter.reward(userKey, 1);
    pendingLogin.end(req, res);
    // A new session id at login, so an id planted before it (session fixation) is worth nothing.
    await regenerate(req);
    req.session.user = { id: user.id, name: user.name };
    req.session.loggedInAt = Date.now();
    sessionCsrfToken(req);
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
