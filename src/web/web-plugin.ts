import type { Express, Request, RequestHandler } from 'express';
import type { TaskList } from 'graphile-worker';
import type { Pool } from '../db/create-pool.js';
import type { Logger } from '../log/create-logger.js';
import type { Html } from './html.js';

/** One block of the dashboard for the signed-in user of `req`. */
export type DashboardSection = (req: Request) => Promise<Html>;

/**
 * What every feature of the operators' web app gets, whoever builds the app. The manager gives its own features
 * more (`ManagerContext`, src/manager/manager-plugin.ts); a feature of another capability (the map's pages and
 * API) asks only for this, so it implements the contract without importing the manager.
 */
export interface WebPluginContext {
  pool: Pool;
  log: Logger;
  /** Pages: a signed-in user or a redirect to /login. */
  requireUserPage: RequestHandler;
  /** JSON APIs: a signed-in user or 401 in the one error shape. */
  requireUserApi: RequestHandler;
}

/**
 * A feature of the operators' web app (the worker registry, API keys, the map's pages, ...). The manager
 * (src/manager/manager-service.ts) mounts, in this order: helmet, /static, each plugin's `apiAuth` on /api,
 * the /api rate limit, each plugin's `publicRoutes`, form parsing, sessions, CSRF, the login routes, the
 * dashboard, each plugin's `routes`. Which plugins it mounts is up to the command that starts it
 * (src/cli/installed-plugins.ts).
 */
export interface WebPlugin {
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

/** Makes a plugin from the app's context: `C` is what it needs of it (at least `WebPluginContext`). */
export type WebPluginFactory<C extends WebPluginContext = WebPluginContext> = (
  ctx: C,
) => WebPlugin | Promise<WebPlugin>;
