import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { z } from 'zod';
import { addServiceOptions, ENV_ALIASES, serviceConfigShape, typedFlags } from '../config/common-config.js';
import { loadConfig } from '../config/load-config.js';
import { bool, duration, port, positiveInt } from '../config/values.js';
import { migrateDatabase } from '../db/migrate.js';
import { resolveDatabase } from '../db/resolve-database.js';
import { createLogger } from '../log/create-logger.js';
import { requireServerKey, serverKeyOf, serverKeyShape } from '../manager/crypto/server-key-config.js';
import { installedPlugins } from '../manager/installed-plugins.js';
import { DEFAULT_MANAGER_PORT, managerService } from '../manager/manager-service.js';
import { Lifecycle } from '../process/lifecycle.js';
import { startService } from '../service/start-service.js';
import { runCommand } from './run-command.js';

const pemFile = () =>
  z
    .string()
    .min(1)
    .transform((path, ctx) => {
      try {
        return readFileSync(path);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `cannot read ${path}: ${(err as Error).message}` });
        return z.NEVER;
      }
    });

/** Express's 'trust proxy': a hop count, true/false, or addresses, subnets and names (loopback, uniquelocal). */
const trustProxy = () => z.string().min(1).transform((v) => (/^\d+$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v));

export const managerConfig = z
  .object({
    ...serviceConfigShape,
    ...serverKeyShape,
    port: port().default(DEFAULT_MANAGER_PORT),
    tlsCert: pemFile().optional(),
    tlsKey: pemFile().optional(),
    cookieSecure: bool().default(false),
    trustProxy: trustProxy().default('loopback'),
    idleTimeout: duration().default(30 * 60_000),
    absoluteTimeout: duration().default(12 * 3_600_000),
    loginRateLimit: positiveInt().default(10),
    apiRateLimit: positiveInt().default(100),
  })
  .superRefine(requireServerKey)
  .superRefine((cfg, ctx) => {
    if ((cfg.tlsCert === undefined) !== (cfg.tlsKey === undefined)) {
      ctx.addIssue({ code: 'custom', path: [cfg.tlsCert ? 'tlsKey' : 'tlsCert'], message: 'give both --tls-cert and --tls-key, or neither' });
    }
  });

/** A manager command's configuration: as every command's, and SERVER_KEY by its usual name too. */
export function loadManagerConfig<S extends z.ZodObject>(cmd: Command, schema: S): z.infer<S> {
  return loadConfig(schema, { flags: typedFlags(cmd), env: process.env, configFile: cmd.opts().config, envAliases: { ...ENV_ALIASES, serverKey: ['SERVER_KEY'] } });
}

export function managerCommand(): Command {
  const cmd = addServiceOptions(new Command('manager'), DEFAULT_MANAGER_PORT)
    .description("the operators' web UI: TOTP login, sessions and rate limits shared by every instance (needs SERVER_KEY)")
    .option('--server-key-file <file>', 'read the server key from this file instead of SERVER_KEY')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate chain (with --tls-key)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option('--cookie-secure', 'mark the session cookie Secure and send HSTS behind a TLS-terminating proxy')
    .option('--trust-proxy <value>', "whose X-Forwarded-For/-Proto to believe: addresses, subnets, 'loopback', or a hop count (default loopback)")
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
      if (db.embedded?.startedHere) lifecycle.onShutdown('embedded PostgreSQL', () => db.embedded!.cluster.stop());
      if (cfg.migrate) await migrateDatabase(db.url, log);
      const tls = cfg.tlsCert && cfg.tlsKey ? { cert: cfg.tlsCert, key: cfg.tlsKey } : undefined;
      const module = managerService({
        serverKey: serverKeyOf(cfg),
        tls: tls !== undefined,
        cookieSecure: cfg.cookieSecure,
        trustProxy: cfg.trustProxy,
        idleTimeoutMs: cfg.idleTimeout,
        absoluteTimeoutMs: cfg.absoluteTimeout,
        loginAttemptsPerMinute: cfg.loginRateLimit,
        apiRequestsPerMinute: cfg.apiRateLimit,
        bodyLimit: cfg.bodyLimit,
        plugins: installedPlugins,
      });
      await startService(module, {
        databaseUrl: db.url,
        host: cfg.host,
        port: cfg.port,
        name: cfg.name,
        bodyLimit: cfg.bodyLimit,
        shutdownGraceMs: cfg.shutdownGraceMs,
        drainDelayMs: cfg.drainDelayMs,
        jobConcurrency: cfg.jobConcurrency,
        tls,
        log,
        lifecycle,
      });
    }),
  );
  return cmd;
}
