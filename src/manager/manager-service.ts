import { join } from 'node:path';
import express, { type Express } from 'express';
import type { Task, TaskList } from 'graphile-worker';
import { DEFAULT_BODY_LIMIT } from '../http/create-service-app.js';
import type { ServiceModule } from '../service/start-service.js';
import { PROJECT_ROOT } from '../version.js';
import { csrfProtection } from './auth/csrf.js';
import { loginRoutes } from './auth/login-routes.js';
import { PENDING_LOGIN_MS } from './auth/pending-login.js';
import { pruneAuthState } from './auth/prune-auth-state.js';
import { createRateLimiter, rateLimit, requesterKey } from './auth/rate-limits.js';
import { requireUser } from './auth/require-user.js';
import { absoluteTimeout, sessionMiddleware } from './auth/sessions.js';
import type { ManagerContext, ManagerPlugin, ManagerPluginFactory } from './manager-plugin.js';
import { securityHeaders } from './security-headers.js';
import { dashboardBody } from './ui/dashboard-page.js';
import { faviconIco } from './ui/favicon.js';
import { html } from '../web/html.js';
import { renderPage } from './ui/render-page.js';

export const DEFAULT_MANAGER_PORT = 8443;
const STATIC_DIR = join(PROJECT_ROOT, 'src/manager/ui/static');

export interface ManagerOptions {
  /** 32 bytes; seals user secrets and derives the session-signing key. */
  serverKey: Buffer;
  /** Served over TLS by this process (Secure cookies, HSTS). */
  tls?: boolean;
  /** Mark cookies Secure and send HSTS although this process speaks HTTP (behind a TLS-terminating proxy). */
  cookieSecure?: boolean;
  /** Express's 'trust proxy': whose X-Forwarded-For and -Proto to believe (default: loopback only). */
  trustProxy?: string | number | boolean;
  idleTimeoutMs?: number;
  absoluteTimeoutMs?: number;
  /** Login attempts (either step) per minute per client address. */
  loginAttemptsPerMinute?: number;
  /** Wrong codes per user name per 15 minutes, from all addresses together (docs/security.md#login-limits). */
  wrongCodesPerUser?: number;
  /** Codes one pending login may try before the user must start again at step 1. */
  triesPerPendingLogin?: number;
  /** /api requests per minute per API key, or per client address without one. */
  apiRequestsPerMinute?: number;
  bodyLimit?: string;
  plugins?: ManagerPluginFactory[];
}

/** The manager: operators' web UI behind TOTP login, with sessions and rate limits shared by all instances. */
export function managerService(opts: ManagerOptions): ServiceModule {
  return {
    type: 'manager',
    capabilities: ['ui', 'totp-login'],
    async build(svc) {
      const { pool, log } = svc;
      const ctx: ManagerContext = {
        ...svc,
        serverKey: opts.serverKey,
        requireUserPage: requireUser(pool, 'page'),
        requireUserApi: requireUser(pool, 'api'),
        createRateLimiter: (limit) => createRateLimiter(pool, limit),
      };
      const plugins: ManagerPlugin[] = [];
      for (const make of opts.plugins ?? []) plugins.push(await make(ctx));
      const loginLimiter = ctx.createRateLimiter({
        name: 'login',
        points: opts.loginAttemptsPerMinute ?? 10,
        durationS: 60,
      });
      const userLimiter = ctx.createRateLimiter({
        name: 'login-user',
        points: opts.wrongCodesPerUser ?? 10,
        durationS: 15 * 60,
      });
      const pendingLimiter = ctx.createRateLimiter({
        name: 'login-pending',
        points: opts.triesPerPendingLogin ?? 5,
        durationS: PENDING_LOGIN_MS / 1000,
      });
      const apiLimiter = ctx.createRateLimiter({
        name: 'api',
        points: opts.apiRequestsPerMinute ?? 100,
        durationS: 60,
      });
      const https = (opts.tls ?? false) || (opts.cookieSecure ?? false);
      const pruneTask: Task = async () => {
        const pruned = await pruneAuthState(pool);
        log.debug(pruned, 'pruned expired sessions and rate limits');
      };

      return {
        routes(app: Express) {
          app.set('trust proxy', opts.trustProxy ?? 'loopback');
          app.use(securityHeaders(https));
          app.use('/static', express.static(STATIC_DIR, { index: false, maxAge: '1h' }));
          // Pages link /static/favicon.svg; this is for a tab without a page's <link> (src/manager/ui/favicon.ts).
          const favicon = faviconIco();
          app.get('/favicon.ico', (_req, res) => {
            res.type('image/x-icon').setHeader('Cache-Control', 'public, max-age=86400').send(favicon);
          });
          for (const p of plugins) if (p.apiAuth) app.use('/api', p.apiAuth);
          app.use('/api', rateLimit(apiLimiter, requesterKey));
          for (const p of plugins) p.publicRoutes?.(app);

          app.use(express.urlencoded({ extended: false, limit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT }));
          app.use(
            sessionMiddleware({
              pool,
              serverKey: opts.serverKey,
              idleTimeoutMs: opts.idleTimeoutMs ?? 30 * 60_000,
              cookieSecure: opts.cookieSecure ?? false,
              log,
            }),
          );
          app.use(absoluteTimeout(opts.absoluteTimeoutMs ?? 12 * 3_600_000));
          app.use(csrfProtection({ serverKey: opts.serverKey, cookieSecure: opts.cookieSecure ?? false }));
          app.use((_req, res, next) => {
            // Pages show who is signed in and carry CSRF tokens: never from a shared cache.
            res.setHeader('Cache-Control', 'no-store');
            next();
          });

          loginRoutes(app, {
            pool,
            serverKey: opts.serverKey,
            cookieSecure: opts.cookieSecure ?? false,
            log,
            loginLimiter,
            userLimiter,
            pendingLimiter,
          });
          const sections = plugins.flatMap((p) => p.dashboardSections ?? []);
          app.get('/', ctx.requireUserPage, async (req, res) => {
            const rendered = await Promise.all(
              sections.map((section) =>
                section(req).catch((err: unknown) => {
                  log.error({ err }, 'dashboard section failed');
                  return html`<section><p class="flash error">This section failed to load; the server log has the details.</p></section>`;
                }),
              ),
            );
            renderPage(req, res, { title: 'Dashboard', body: dashboardBody(req.session.user!.name, rendered) });
          });
          app.get('/api/me', ctx.requireUserApi, (req, res) => {
            res.json({ user: req.session.user!.name, logged_in_at: new Date(req.session.loggedInAt!).toISOString() });
          });
          for (const p of plugins) p.routes?.(app);
        },
        tasks: plugins.reduce<TaskList>((tasks, p) => ({ ...tasks, ...p.tasks }), { prune_manager_state: pruneTask }),
        crontab: ['*/15 * * * * prune_manager_state ?max=1', ...plugins.flatMap((p) => p.crontab ?? [])],
      };
    },
  };
}
