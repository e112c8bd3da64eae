import type { Express, Request, RequestHandler } from 'express';
import type { TaskList } from 'graphile-worker';
import type { RateLimiterPostgres } from 'rate-limiter-flexible';
import type { ServiceContext } from '../service/start-service.js';
import type { RateLimit } from './auth/rate-limits.js';
import type { Html } from '../web/html.js';

/** One block of the dashboard for the signed-in user of `req`. */
export type DashboardSection = (req: Request) => Promise<Html>;

/** What a manager feature gets: the service's context and the manager's auth building blocks. */
export interface ManagerContext extends ServiceContext {
  serverKey: Buffer;
  /** Pages: a signed-in user or a redirect to /login. */
  requireUserPage: RequestHandler;
  /** JSON APIs: a signed-in user or 401 in the one error shape. */
  requireUserApi: RequestHandler;
  /** A limiter counting in the shared rate_limits table, for a feature's own limits. */
  createRateLimiter(limit: RateLimit): RateLimiterPostgres;
}

/**
 * A manager feature (the worker registry, API keys, TLS, ...). The manager mounts, in this order: helmet,
 * /static, each plugin's `apiAuth` on /api, the /api rate limit, each plugin's `publicRoutes`, form parsing,
 * sessions, CSRF, the login routes, the dashboard, each plugin's `routes`.
 */
export interface ManagerPlugin {
  /**
   * Runs on /api before its rate limit: on a valid API key it sets `req.apiKey = { id, ... }`, so the limit
   * counts per key. It should pass a bad key on unrejected (the route refuses it), so bad keys count per address.
   */
  apiAuth?: RequestHandler;
  /** Routes that authenticate on their own and need no session (the API gateway, ACME challenges). */
  publicRoutes?(app: Express): void;
  /** Routes with sessions and CSRF: guard pages with `requireUserPage`, JSON with `requireUserApi`. */
  routes?(app: Express): void;
  dashboardSections?: DashboardSection[];
  tasks?: TaskList;
  crontab?: string[];
}

export type ManagerPluginFactory = (ctx: ManagerContext) => ManagerPlugin | Promise<ManagerPlugin>;
