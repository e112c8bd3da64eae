import { Router } from 'express';
import type { ServiceState } from './create-service-app.js';
import type { ServiceIdentity } from './service-identity.js';
import type { ServiceMetrics } from './service-metrics.js';

export type CheckResult = { ok: true } | { ok: false; reason: string };

export interface ReadinessCheck {
  name: string;
  check: () => Promise<CheckResult>;
}

async function runChecks(checks: ReadinessCheck[]): Promise<{ ok: boolean; checks: Record<string, string> }> {
  const results = await Promise.all(
    checks.map(
      async (c) =>
        [c.name, await c.check().catch((err: Error) => ({ ok: false as const, reason: err.message }))] as const,
    ),
  );
  return {
    ok: results.every(([, r]) => r.ok),
    checks: Object.fromEntries(results.map(([name, r]) => [name, r.ok ? 'ok' : `down: ${r.reason}`])),
  };
}

/** /health (liveness and counters), /ready (dependencies), /metrics (Prometheus) and /service-info. */
export function serviceRoutes(opts: {
  identity: ServiceIdentity;
  metrics: ServiceMetrics;
  readiness?: ReadinessCheck[];
  state: ServiceState;
  healthDetails?: () => Record<string, unknown>;
}): Router {
  const { identity, metrics, state } = opts;
  const checks = opts.readiness ?? [];
  const router = Router();

  router.get('/health', async (_req, res) => {
    const deps = await runChecks(checks);
    res.json({
      status: state.draining ? 'draining' : deps.ok ? 'ok' : 'degraded',
      service_type: identity.serviceType,
      name: identity.name,
      instance_id: identity.instanceId,
      version: identity.version,
      started_at: state.startedAt.toISOString(),
      uptime_seconds: Math.round((Date.now() - state.startedAt.getTime()) / 1000),
      checks: deps.checks,
      counters: await metrics.totals(),
      ...opts.healthDetails?.(),
    });
  });

  router.get('/ready', async (_req, res) => {
    if (state.draining) {
      res.status(503).json({ status: 'draining', checks: {} });
      return;
    }
    const deps = await runChecks(checks);
    res.status(deps.ok ? 200 : 503).json({ status: deps.ok ? 'ready' : 'not_ready', checks: deps.checks });
  });

  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  router.get('/service-info', (_req, res) => {
    res.json({
      service_type: identity.serviceType,
      version: identity.version,
      name: identity.name,
      instance_id: identity.instanceId,
      capabilities: identity.capabilities,
    });
  });

  return router;
}
