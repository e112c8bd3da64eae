import { hostname } from 'node:os';
import { Command } from 'commander';
import { z } from 'zod';
import { addServiceOptions, ENV_ALIASES, serviceConfigShape, typedFlags } from '../config/common-config.js';
import { loadConfig } from '../config/load-config.js';
import { bool, duration, port, positiveInt } from '../config/values.js';
import { migrateDatabase } from '../db/migrate.js';
import { resolveDatabase } from '../db/resolve-database.js';
import { createLogger } from '../log/create-logger.js';
import { requireServerKey, serverKeyOf, serverKeyShape } from '../manager/crypto/server-key-config.js';
import { createSealer } from '../manager/crypto/seal.js';
import { ddnsConfigShape, DDNS_ENV_ALIASES, addDdnsOptions, dyfiFromConfig } from '../manager/ddns/ddns-config.js';
import { ddnsPlugin } from '../manager/ddns/ddns-plugin.js';
import { installedPlugins } from './installed-plugins.js';
import { listenForHttpChallenges } from '../manager/tls/http-challenge-listener.js';
import { startManagerTls } from '../manager/tls/start-manager-tls.js';
import { addTlsOptions, tlsConfigShape, tlsSourceFromConfig } from '../manager/tls/tls-config.js';
import { tlsPlugin } from '../manager/tls/tls-plugin.js';
import { createPool } from '../db/create-pool.js';
import { DEFAULT_MANAGER_PORT, managerService } from '../manager/manager-service.js';
import { Lifecycle } from '../process/lifecycle.js';
import { startService } from '../service/start-service.js';
import { runCommand } from './run-command.js';
import { serviceStartOptions } from './run-service-command.js';

/** Express's 'trust proxy': a hop count, true/false, or addresses, subnets and names (loopback, uniquelocal). */
const trustProxy = () =>
  z
    .string()
    .min(1)
    .transform((v) => (/^\d+$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v));

export const managerConfig = z
  .object({
    ...serviceConfigShape,
    ...serverKeyShape,
    port: port().default(DEFAULT_MANAGER_PORT),
    ...tlsConfigShape,
    ...ddnsConfigShape,
    /** Where the other instances reach this one (dy.fi failover checks its /health). */
    publicUrl: z.url().optional(),
    /** Plain-HTTP port for ACME's HTTP-01 challenges and a redirect to HTTPS (80 with ACME, else none). */
    httpPort: port().optional(),
    cookieSecure: bool().default(false),
    trustProxy: trustProxy().default('loopback'),
    idleTimeout: duration().default(30 * 60_000),
    absoluteTimeout: duration().default(12 * 3_600_000),
    loginRateLimit: positiveInt().default(10),
    apiRateLimit: positiveInt().default(100),
  })
  .superRefine(requireServerKey);

/** A manager command's configuration: as every command's, and SERVER_KEY by its usual name too. */
export function loadManagerConfig<S extends z.ZodObject>(cmd: Command, schema: S): z.infer<S> {
  return loadConfig(schema, {
    flags: typedFlags(cmd),
    env: process.env,
    configFile: cmd.opts<{ config?: string }>().config,
    envAliases: { ...ENV_ALIASES, ...DDNS_ENV_ALIASES, serverKey: ['SERVER_KEY'] },
  });
}

export function managerCommand(): Command {
  const cmd = addDdnsOptions(addTlsOptions(addServiceOptions(new Command('manager'), DEFAULT_MANAGER_PORT)))
    .description(
      "the operators' web UI: TOTP login, sessions and rate limits shared by every instance (needs SERVER_KEY)",
    )
    .option('--server-key-file <file>', 'read the server key from this file instead of SERVER_KEY')
    .option('--public-url <url>', 'where the other instances reach this one (default https://<host>:<port>)')
    .option('--http-port <port>', 'plain HTTP for ACME challenges and a redirect to HTTPS (default 80 with ACME)')
    .option('--cookie-secure', 'mark the session cookie Secure and send HSTS behind a TLS-terminating proxy')
    .option(
      '--trust-proxy <value>',
      "whose X-Forwarded-For/-Proto to believe: addresses, subnets, 'loopback', or a hop count (default loopback)",
    )
    .option('--idle-timeout <duration>', 'a session ends after this long without a request (default 30m)')
    .option('--absolute-timeout <duration>', 'a session ends this long after login whatever happens (default 12h)')
    .option('--login-rate-limit <n>', 'login attempts per minute per address, across all instances (default 10)')
    .option('--api-rate-limit <n>', '/api requests per minute per API key or address (default 100)');
  cmd.action(
    runCommand(async () => {
      const cfg = loadManagerConfig(cmd, managerConfig);
      const log = createLogger({ level: cfg.verbose ? 'debug' : cfg.logLevel, name: 'manager' });
      const lifecycle = new Lifecycle(log);
      lifecycle.handleSignals();
      const db = await resolveDatabase(cfg, log);
      if (db.embedded) lifecycle.onShutdown('embedded PostgreSQL', async () => void (await db.embedded!.release()));
      if (cfg.migrate) await migrateDatabase(db.directUrl, log);
      const serverKey = serverKeyOf(cfg);
      const source = tlsSourceFromConfig(cfg);
      const dyfi = dyfiFromConfig(cfg);
      const secure = source.kind !== 'off';
      const publicUrl =
        cfg.publicUrl ??
        `${secure ? 'https' : 'http'}://${cfg.host === '0.0.0.0' || cfg.host === '::' ? hostname() : cfg.host}:${cfg.port}`;
      // The certificate comes from the database (self-signed or ACME, the same on every instance) or files,
      // before the listener starts; a pool of its own, since the service's pool exists only inside startService.
      const tlsPool = createPool(db.url, log.child({ module: 'tls' }), {
        max: 2,
        applicationName: 'hopmap-manager-tls',
      });
      lifecycle.onShutdown('tls pool', () => tlsPool.end());
      const sealer = createSealer(serverKey, 'tls');
      const managerTls =
        source.kind === 'off' ? undefined : await startManagerTls({ pool: tlsPool, sealer, source, log });
      if (managerTls) lifecycle.onShutdown('tls watcher', () => managerTls.stop());
      const plugins = [
        ...installedPlugins,
        tlsPlugin({ pool: tlsPool, sealer, source, log }),
        ...(dyfi ? [ddnsPlugin({ dyfi, selfUrl: () => publicUrl })] : []),
      ];
      const module = managerService({
        serverKey,
        tls: secure,
        cookieSecure: cfg.cookieSecure,
        trustProxy: cfg.trustProxy,
        idleTimeoutMs: cfg.idleTimeout,
        absoluteTimeoutMs: cfg.absoluteTimeout,
        loginAttemptsPerMinute: cfg.loginRateLimit,
        apiRequestsPerMinute: cfg.apiRateLimit,
        bodyLimit: cfg.bodyLimit,
        plugins,
      });
      const running = await startService(module, {
        ...serviceStartOptions(cfg, db.url, db.directUrl),
        tls: managerTls?.current(),
        log,
        lifecycle,
      });
      if (managerTls && running.setSecureContext) managerTls.attach(running.setSecureContext);
      const httpPort = cfg.httpPort ?? (source.kind === 'acme' ? 80 : undefined);
      if (httpPort !== undefined && secure) {
        const plain = await listenForHttpChallenges(tlsPool, { host: cfg.host, port: httpPort, httpsPort: cfg.port });
        lifecycle.onShutdown('http challenge listener', () => plain.close(5_000));
      }
      log.info({ url: running.url, tls: source.kind, publicUrl, dyfi: dyfi?.domain }, 'manager ready');
    }),
  );
  return cmd;
}
