import http from 'node:http';
import https from 'node:https';
import { Router, type Request, type Response } from 'express';
import type { Pool } from '../../db/create-pool.js';
import type { ServiceMetrics } from '../../http/service-metrics.js';
import type { Logger } from '../../log/create-logger.js';
import { requireRole } from '../../keys/require-role.js';
import { findUpstreams, type UpstreamType } from './find-upstreams.js';
import { proxyRequest, type ProxyDeps } from './proxy-request.js';
import { UpstreamPicker } from './upstream-picker.js';

export interface GatewayDeps {
  pool: Pool;
  log: Logger;
  /** The manager's metrics: gateway requests and retries also show on its /health. */
  metrics?: ServiceMetrics;
  /** Largest body accepted (default 10 MB). */
  maxBodyBytes?: number;
  /** Bodies up to this size can be sent to a second instance after a failure (default 1 MiB). */
  replayBytes?: number;
  timeoutMs?: number;
  /** Where the instances come from (default: service_instances and registered_services). */
  findUpstreams?: (type: UpstreamType) => Promise<string[]>;
}

export interface Gateway {
  router: Router;
  /** Closes the kept-alive upstream connections (at shutdown). */
  close(): Promise<void>;
}

/**
 * The worker endpoints for workers that cannot reach input and output themselves (behind NAT, no VPN):
 * GET /gateway/targets → an input's /targets and POST /gateway/results (and POST /gateway, where a worker
 * whose output_file is https://manager/gateway posts) → an output's /results, with a worker key;
 * POST /gateway/hops → an input's /hops, with a feeder key; admin keys everywhere. The key goes on to the
 * upstream, whose own role check and consumer namespacing apply to it as if the worker had come directly.
 * Must be mounted outside session and CSRF checks: the key is the auth.
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const log = deps.log.child({ module: 'gateway' });
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const requests = deps.metrics?.counter('gateway_requests_total', 'worker requests forwarded by the gateway', [
    'route',
  ]);
  const retries = deps.metrics?.counter(
    'gateway_retries_total',
    'gateway requests sent to a second instance after the first failed',
    ['upstream'],
  );
  const proxy: ProxyDeps = {
    picker: new UpstreamPicker(deps.findUpstreams ?? ((type) => findUpstreams(deps.pool, type))),
    agents,
    limits: { maxBytes: deps.maxBodyBytes ?? 10 * 1024 * 1024, replayBytes: deps.replayBytes ?? 1024 * 1024 },
    timeoutMs: deps.timeoutMs ?? 30_000,
    log,
    onRetry: (type) => retries?.inc({ upstream: type }),
  };
  const forward = (type: UpstreamType, path: string, route: string) => async (req: Request, res: Response) => {
    requests?.inc({ route });
    await proxyRequest(req, res, type, path, proxy);
  };

  const worker = requireRole(deps.pool, ['worker'], { log });
  const router = Router();
  router.get('/gateway/targets', worker, forward('input', '/targets', 'targets'));
  router.post('/gateway/hops', requireRole(deps.pool, ['feeder'], { log }), forward('input', '/hops', 'hops'));
  router.post(['/gateway', '/gateway/results'], worker, forward('output', '/results', 'results'));
  // Any other path under /gateway: a key of any role first, so a stranger learns nothing from a 404.
  router.use('/gateway', requireRole(deps.pool, ['worker', 'feeder'], { log }));

  return {
    router,
    close() {
      agents.http.destroy();
      agents.https.destroy();
      return Promise.resolve();
    },
  };
}
