import { setTimeout as sleep } from 'node:timers/promises';
import type { Express } from 'express';
import type { TaskList } from 'graphile-worker';
import { checkDatabase, createPool, type Pool } from '../db/create-pool.js';
import { createServiceApp, type ServiceState } from '../http/create-service-app.js';
import { listen, type TlsOptions } from '../http/listen.js';
import { makeIdentity, type ServiceIdentity, type ServiceType } from '../http/service-identity.js';
import { ServiceMetrics } from '../http/service-metrics.js';
import { jobPoolSize, startJobRunner } from '../jobs/start-job-runner.js';
import type { Logger } from '../log/create-logger.js';
import { Lifecycle } from '../process/lifecycle.js';
import { registerDatabaseMetrics } from './database-metrics.js';
import { registerInstance } from './instance-registry.js';

export interface ServiceContext {
  pool: Pool;
  /** The PostgreSQL server itself (DATABASE_DIRECT_URL), for tools that connect on their own (pg_dump). */
  databaseUrl: string;
  log: Logger;
  metrics: ServiceMetrics;
  identity: ServiceIdentity;
  lifecycle: Lifecycle;
}

/** What a service adds to the kit: its routes, its background tasks and their schedule. */
export interface ServiceParts {
  routes?: (app: Express) => void;
  /** Checks before any body is read (key gates), on the main listener and the health listener alike. */
  guards?: (app: Express) => void;
  /** Routes also served on the separate health port, when one is configured. */
  healthRoutes?: (app: Express) => void;
  tasks?: TaskList;
  /** graphile-worker crontab lines. */
  crontab?: string[];
  /** Called once the main listener is up, e.g. to keep its certificate current with `setSecureContext`. */
  onListening?: (listening: {
    url: string;
    setSecureContext?: ((tls: TlsOptions) => void) | undefined;
  }) => void | Promise<void>;
}

export interface ServiceModule {
  type: ServiceType;
  capabilities: string[];
  build(ctx: ServiceContext): ServiceParts | Promise<ServiceParts>;
}

export interface StartServiceOptions {
  /** May be PgBouncer in transaction mode. */
  databaseUrl: string;
  /** The PostgreSQL server itself, for graphile-worker and pg_dump; unset: `databaseUrl`. */
  databaseDirectUrl?: string | undefined;
  host: string;
  port: number;
  name?: string | undefined;
  bodyLimit?: string;
  shutdownGraceMs?: number;
  /** How long /ready answers 503 before the listener closes, so a load balancer notices first. */
  drainDelayMs?: number;
  /** A second listener with only the kit's routes (and `healthRoutes`), as the original's health port. */
  healthPort?: number | undefined;
  jobConcurrency?: number;
  /** Serve HTTPS with this certificate instead of HTTP (the health port stays plain HTTP). */
  tls?: TlsOptions | undefined;
  log: Logger;
  lifecycle?: Lifecycle;
}

export interface RunningService {
  url: string;
  /** The separate health listener, when `healthPort` was given. */
  healthUrl?: string | undefined;
  port: number;
  pool: Pool;
  identity: ServiceIdentity;
  metrics: ServiceMetrics;
  state: ServiceState;
  lifecycle: Lifecycle;
  /** Replaces the certificate from the next TLS handshake on; set only when started with `tls`. */
  setSecureContext?: ((tls: TlsOptions) => void) | undefined;
  stop(): Promise<boolean>;
}

/**
 * Starts one stateless service instance: pool, job runner, HTTP app, instance registration. Tests call
 * this with port 0; the CLI calls it and then hands the lifecycle to the signal handlers.
 */
export async function startService(module: ServiceModule, opts: StartServiceOptions): Promise<RunningService> {
  const log = opts.log;
  const lifecycle = opts.lifecycle ?? new Lifecycle(log);
  try {
    const pool = createPool(opts.databaseUrl, log.child({ module: 'db' }), {
      applicationName: `hopmap-${module.type}`,
    });
    lifecycle.onShutdown('database pool', () => pool.end());
    const directUrl = opts.databaseDirectUrl ?? opts.databaseUrl;
    const jobPool =
      directUrl === opts.databaseUrl
        ? pool
        : createPool(directUrl, log.child({ module: 'db-direct' }), {
            max: jobPoolSize(opts.jobConcurrency ?? 4),
            applicationName: `hopmap-${module.type}-jobs`,
            preparedStatements: true,
          });
    if (jobPool !== pool) lifecycle.onShutdown('direct database pool', () => jobPool.end());
    const identity = makeIdentity(module.type, module.capabilities, opts.name);
    const metrics = new ServiceMetrics(module.type);
    registerDatabaseMetrics(metrics, pool);
    const parts = await module.build({ pool, databaseUrl: directUrl, log, metrics, identity, lifecycle });

    const runner = await startJobRunner({
      pool: jobPool,
      url: directUrl,
      log,
      tasks: parts.tasks,
      crontab: parts.crontab,
      concurrency: opts.jobConcurrency,
    });
    lifecycle.onShutdown('job runner', () => runner.stop());

    const { app, state } = createServiceApp({
      identity,
      log,
      metrics,
      bodyLimit: opts.bodyLimit,
      readiness: [{ name: 'database', check: () => checkDatabase(pool) }],
      guards: parts.guards,
      routes: parts.routes,
    });
    const listening = await listen(app, { port: opts.port, host: opts.host, tls: opts.tls });
    const registration = await registerInstance(pool, identity, listening.url, log.child({ module: 'registry' }));
    lifecycle.onShutdown('instance registration', () => registration.stop());
    lifecycle.onShutdown('http server', async () => {
      state.draining = true;
      if (opts.drainDelayMs) await sleep(opts.drainDelayMs);
      await listening.close(opts.shutdownGraceMs ?? 30_000);
    });
    let healthUrl: string | undefined;
    if (opts.healthPort !== undefined) {
      const health = createServiceApp({
        identity,
        log,
        metrics,
        readiness: [{ name: 'database', check: () => checkDatabase(pool) }],
        guards: parts.guards,
        routes: parts.healthRoutes,
        state,
      });
      const healthListening = await listen(health.app, { port: opts.healthPort, host: opts.host });
      healthUrl = healthListening.url;
      lifecycle.onShutdown('health server', () => healthListening.close(opts.shutdownGraceMs ?? 30_000));
    }
    await parts.onListening?.({ url: listening.url, setSecureContext: listening.setSecureContext });
    log.info({ url: listening.url, healthUrl, instance: identity.instanceId }, `${module.type} service listening`);
    return {
      url: listening.url,
      healthUrl,
      port: listening.port,
      pool,
      identity,
      metrics,
      state,
      lifecycle,
      setSecureContext: listening.setSecureContext,
      stop: () => lifecycle.shutdown('stop'),
    };
  } catch (err) {
    await lifecycle.shutdown('start failed');
    throw err;
  }
}
