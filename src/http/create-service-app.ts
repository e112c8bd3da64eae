import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from '../log/create-logger.js';
import { parseSize } from './decoded-body.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { jsonBody } from './json-body.js';
import { refuseNulParams } from './refuse-nul-params.js';
import type { ServiceIdentity } from './service-identity.js';
import type { ServiceMetrics } from './service-metrics.js';
import { serviceRoutes, type ReadinessCheck } from './service-routes.js';

export const DEFAULT_BODY_LIMIT = '10mb';

export interface ServiceAppOptions {
  identity: ServiceIdentity;
  log: Logger;
  metrics: ServiceMetrics;
  /** Dependencies that must answer for /ready to be 200 (the database, for services). */
  readiness?: ReadinessCheck[];
  /** Body limit (JSON and streamed NDJSON), counted after decompression; larger bodies get 413. */
  bodyLimit?: string | number;
  /**
   * Checks mounted before any body is read (the key gates): a request that may not reach a route is refused
   * before the service spends a byte of parsing on it.
   */
  guards?: (app: Express) => void;
  /** The service's own routes, mounted after the kit's and before the 404 and error handlers. */
  routes?: (app: Express) => void;
  /** More fields for /health (a worker's spool depth, whether raw sockets work). */
  healthDetails?: () => Record<string, unknown>;
  /** Share another app's state (a second listener of the same service drains with it). */
  state?: ServiceState;
}

export interface ServiceState {
  /** Set on shutdown: /ready answers 503 and responses close their connections. */
  draining: boolean;
  readonly startedAt: Date;
}

/** The express app every hopmap HTTP service is built on: one body limit, one error shape, one set of ops routes. */
export function createServiceApp(opts: ServiceAppOptions): { app: Express; state: ServiceState } {
  const state: ServiceState = opts.state ?? { draining: false, startedAt: new Date() };
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  // Routes that log (and are mounted without a logger of their own) take it from req.app.locals.log.
  app.locals.log = opts.log;
  // Bodies read by a route itself (streamed NDJSON) count against the same limit as JSON ones.
  app.locals.bodyLimit = parseSize(opts.bodyLimit ?? DEFAULT_BODY_LIMIT);
  app.use(observeRequests(opts.metrics, state));
  app.use(refuseNulParams);
  opts.guards?.(app);
  app.use(jsonBody({ limit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT }));
  app.use(serviceRoutes({ ...opts, state }));
  opts.routes?.(app);
  app.use(notFoundHandler);
  app.use(errorHandler(opts.log.child({ module: 'http' })));
  return { app, state };
}

function observeRequests(metrics: ServiceMetrics, state: ServiceState): RequestHandler {
  return (req, res, next) => {
    // While draining, tell keep-alive clients to reconnect elsewhere once this response is done.
    if (state.draining) res.setHeader('Connection', 'close');
    const end = metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => {
      // req.route is `any` in Express's types: when a route matched, the Route, with the path it was declared with.
      const matched: unknown = req.route;
      const route =
        matched && typeof matched === 'object' && 'path' in matched
          ? `${req.baseUrl}${String(matched.path)}`
          : 'unmatched';
      end({ route, status: String(res.statusCode) });
      // A request that began before draining still holds a keep-alive socket; let it go now it is answered.
      if (state.draining) req.socket.end();
    });
    next();
  };
}
