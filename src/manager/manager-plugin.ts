import type { RateLimiterPostgres } from 'rate-limiter-flexible';
import type { ServiceContext } from '../service/start-service.js';
import type { WebPlugin, WebPluginContext, WebPluginFactory } from '../web/web-plugin.js';
import type { RateLimit } from './auth/rate-limits.js';

/**
 * What the manager's own features get: the service's context and the manager's auth building blocks. The plugin
 * contract itself is the kit's (src/web/web-plugin.ts), so features of other capabilities (the map) implement it
 * without importing the manager.
 */
export interface ManagerContext extends ServiceContext, WebPluginContext {
  serverKey: Buffer;
  /** A limiter counting in the shared rate_limits table, for a feature's own limits. */
  createRateLimiter(limit: RateLimit): RateLimiterPostgres;
}

/** A manager feature (the worker registry, API keys, TLS, ...): a plugin of the kit's contract. */
export type ManagerPlugin = WebPlugin;

/** Any plugin factory whose context the manager's covers: the manager's own, and the kit's (the map's). */
export type ManagerPluginFactory = WebPluginFactory<ManagerContext>;
