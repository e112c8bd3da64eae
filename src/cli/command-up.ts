import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { z } from 'zod';
import { addDatabaseOptions, databaseConfigShape, loadCommandConfig } from '../config/common-config.js';
import { bool, port, positiveInt } from '../config/values.js';
import { migrateDatabase } from '../db/migrate.js';
import { resolveDatabase } from '../db/resolve-database.js';
import { createPool } from '../db/create-pool.js';
import { createLogger } from '../log/create-logger.js';
import { QUIET_TERMINAL_ENV, quietTerminal } from '../log/quiet-terminal.js';
import { loadRanges } from '../map/enrich/index.js';
import { ensureServerKeyFile, serverKeyPath } from '../manager/crypto/server-key.js';
import { Lifecycle } from '../process/lifecycle.js';
import { Supervisor } from '../process/supervise-children.js';
import { upWorkerKey } from '../up/up-keys.js';
import { NO_PROGRESS, startupProgress } from '../up/up-progress.js';
import { deregisterUpServices, registerUpServices } from '../up/up-registry.js';
import { UP_SERVICES } from '../up/up-services.js';
import { localAddress, upWorkerChild } from '../up/up-worker.js';
import { waitUntilReady } from '../up/wait-until-ready.js';
import { BIN_PATH } from '../version.js';
import { workerConfig } from '../worker/worker-config.js';
import { runCommand } from './run-command.js';

const upConfig = z.object({
  ...databaseConfigShape,
  host: z.string().min(1).default('127.0.0.1'),
  shutdownGraceMs: positiveInt().default(30_000),
  inputPort: port().default(8080),
  outputPort: port().default(8081),
  outputHealthPort: port().default(8091),
  managerPort: port().default(8443),
  worker: bool().default(true),
  workerId: workerConfig.shape.workerId,
  workerPps: workerConfig.shape.pps,
  workerHealthPort: port().default(8092),
});

export function upCommand(): Command {
  const cmd = addDatabaseOptions(new Command('up'))
    .description(
      'run the whole mapper on this machine: database, migrations, every service and one local worker, until Ctrl-C',
    )
    .option('--host <host>', 'address the services listen on (default 127.0.0.1)')
    .option('--shutdown-grace-ms <ms>', 'how long services may take to stop (default 30000)')
    .option('--input-port <port>', 'port of the target feeder (default 8080)')
    .option('--output-port <port>', 'port of the results ingester (default 8081)')
    .option('--output-health-port <port>', "port of the results ingester's health server (default 8091)")
    .option('--manager-port <port>', 'port of the manager, the web UI (default 8443)')
    .option('--no-worker', 'do not run the local worker (it probes the bootstrap targets on the internet)')
    .option('--worker-id <id>', "the local worker's id (default: hostname)")
    .option('--worker-pps <n>', "the local worker's cap on probe packets per second (default 100)")
    .option('--worker-health-port <port>', "port of the local worker's health server (default 8092)");
  cmd.action(
    runCommand(async () => {
      const cfg = loadCommandConfig(cmd, upConfig);
      // On a terminal: one progress line while starting, the banner, then only what an operator must act on
      // (src/log/quiet-terminal.ts), in this process and its children. Elsewhere the log lines are as ever.
      const quiet = quietTerminal({
        isTTY: process.stdout.isTTY === true,
        ci: Boolean(process.env.CI),
        verbose: cfg.verbose,
        logLevel: cfg.logLevel,
      });
      const quietEnv: Record<string, string> = quiet ? { [QUIET_TERMINAL_ENV]: '1' } : {};
      // database, migrations, ranges, services, the worker, the registry
      const progress = quiet ? startupProgress(cfg.worker ? 6 : 5) : NO_PROGRESS;
      const log = createLogger({
        level: cfg.verbose ? 'debug' : cfg.logLevel,
        name: 'up',
        ...(quiet && { quietTerminal: true, write: (text: string) => progress.print(text) }),
      });
      const lifecycle = new Lifecycle(log);
      lifecycle.handleSignals();
      if (quiet) {
        let told = false;
        const tell = () => {
          progress.stop();
          if (!told) process.stdout.write('\nstopping hopmap (Ctrl-C again to quit at once) …\n');
          told = true;
        };
        process.on('SIGINT', tell).on('SIGTERM', tell);
      }
      // Nothing else may hold the event loop open (no services yet, or all restarting); stay until a signal.
      const keepAlive = setInterval(() => {}, 1 << 30);
      lifecycle.onShutdown('keep-alive', () => {
        clearInterval(keepAlive);
        if (quiet) process.stdout.write('hopmap stopped\n');
      });

      try {
        progress.step(
          cfg.databaseUrl || cfg.databaseDirectUrl ? 'connecting to the database' : 'starting the embedded PostgreSQL',
        );
        const db = await resolveDatabase(cfg, log);
        if (db.embedded) lifecycle.onShutdown('embedded PostgreSQL', async () => void (await db.embedded!.release()));
        progress.step('migrating the database');
        await migrateDatabase(db.directUrl, log);
        // AS numbers, organisations and countries for the hops (docs/enrichment.md); a no-op when already loaded.
        progress.step('AS and country ranges');
        const enrichPool = createPool(db.url, log.child({ module: 'enrich' }), { max: 1 });
        const ranges = await loadRanges(enrichPool, undefined, (read, total) =>
          progress.within(read / total, `first start: loading about 1.2M, ${Math.floor((100 * read) / total)}%`),
        ).finally(() => enrichPool.end());
        progress.step('starting input, output and the manager');
        // Input and output refuse requests without a key; `up` makes its worker's (docs/security.md).
        const keysPool = createPool(db.url, log.child({ module: 'keys' }), { max: 1 });
        const workerKey = await upWorkerKey(keysPool, cfg.worker ? cfg.workerId : undefined).finally(() =>
          keysPool.end(),
        );

        const supervisor = new Supervisor(log.child({ module: 'supervisor' }));
        lifecycle.onShutdown('services', () => supervisor.stopAll(cfg.shutdownGraceMs + 5_000));
        const services = UP_SERVICES.map((svc) => ({ ...svc, port: cfg[svc.portKey] }));
        // The manager seals secrets with a server key; on one machine `up` keeps one in the state dir.
        const keyExisted = existsSync(serverKeyPath(cfg.stateDir));
        const serverKey = ensureServerKeyFile(cfg.stateDir);
        for (const svc of services) {
          supervisor.start({
            name: svc.command,
            args: [
              BIN_PATH,
              svc.command,
              '--no-migrate',
              '--host',
              cfg.host,
              '--port',
              String(svc.port),
              ...(svc.healthPortKey ? ['--health-port', String(cfg[svc.healthPortKey])] : []),
              ...(svc.args ?? []),
              ...(svc.serverKey ? ['--server-key-file', serverKey.path] : []),
            ],
            env: { DATABASE_URL: db.url, DATABASE_DIRECT_URL: db.directUrl, ...quietEnv },
          });
        }
        const local = localAddress(cfg.host);
        const baseUrl = (svc: { https?: boolean; port: number }) =>
          `${svc.https ? 'https' : 'http'}://${local}:${svc.port}`;
        let answering = 0;
        const urls = await Promise.all(
          services.map(async (svc) => {
            const ready = await waitUntilReady(baseUrl(svc), 120_000);
            progress.within(++answering / services.length, `${answering} of ${services.length} answering`);
            return { svc, ready };
          }),
        );
        let workerReady = false;
        // After the services answer, so its first fetch does not fail into a backoff; not once Ctrl-C came.
        const workerStarted = workerKey !== undefined && !lifecycle.stopping;
        if (workerKey !== undefined && workerStarted) {
          progress.step('starting the local worker');
          const { stateDir, host, inputPort, outputPort, workerId, workerPps: pps, workerHealthPort: healthPort } = cfg;
          const worker = upWorkerChild({
            stateDir,
            host,
            inputPort,
            outputPort,
            workerId,
            pps,
            healthPort,
            apiKey: workerKey,
          });
          supervisor.start({ ...worker, env: { ...worker.env, ...quietEnv } });
          // Registered last so it runs first: the worker flushes its results while the output still takes them.
          lifecycle.onShutdown('worker', () => supervisor.stop('worker', cfg.shutdownGraceMs + 5_000));
          workerReady = await waitUntilReady(`http://${local}:${cfg.workerHealthPort}`, 60_000);
        }

        // The manager polls what `up` started, as if an operator had added each by URL on /workers; they go
        // again at the stop (docs/manager.md). Registered after the worker's hook, so it runs before it.
        progress.step('registering the services with the manager');
        const registryLog = log.child({ module: 'registry' });
        const registryPool = () => createPool(db.url, registryLog, { max: 1 });
        lifecycle.onShutdown('registry', async () => {
          const pool = registryPool();
          await deregisterUpServices(pool, cfg.stateDir, registryLog).finally(() => pool.end());
        });
        const toRegister = [
          ...services
            .filter((svc) => svc.command !== 'manager')
            .map((svc) => ({ label: svc.command, url: baseUrl(svc) })),
          ...(workerStarted ? [{ label: 'worker', url: `http://${local}:${cfg.workerHealthPort}` }] : []),
        ];
        let failed: string[] = [];
        if (!lifecycle.stopping) {
          const pool = registryPool();
          ({ failed } = await registerUpServices(pool, cfg.stateDir, toRegister, registryLog).finally(() =>
            pool.end(),
          ));
        }
        progress.stop();

        const lines = ['', 'hopmap is up', ''];
        lines.push(`  database   ${db.url}`);
        lines.push(
          `  enrichment ${ranges.loaded.length ? `loaded ${ranges.loaded.map((l) => `${l.package}@${l.version} (${l.rows} ranges)`).join(', ')}` : 'AS and country data up to date'}`,
        );
        if (db.embedded) lines.push(`             embedded PostgreSQL, data in ${db.embedded.cluster.dataDir}`);
        for (const { svc, ready } of urls) {
          lines.push(
            `  ${svc.command.padEnd(10)} ${svc.https ? 'https' : 'http'}://${cfg.host}:${svc.port}${ready ? '' : '   (not ready yet; see the log)'}${svc.https ? '   (self-signed certificate: the browser asks once)' : ''}`,
          );
          if (svc.healthPortKey) lines.push(`  ${''.padEnd(10)} health: http://${cfg.host}:${cfg[svc.healthPortKey]}`);
          if (svc.serverKey) {
            lines.push(
              `  ${''.padEnd(10)} server key ${serverKey.path}${keyExisted ? '' : ' (made now; keep it: it opens the TOTP secrets)'}`,
            );
            lines.push(`  ${''.padEnd(10)} add a user: hopmap user add NAME --server-key-file ${serverKey.path}`);
          }
        }
        lines.push(
          `  keys       input and output answer only requests with a key${cfg.worker ? ` (the worker's, named ${cfg.workerId}, is made at each start)` : ''}`,
        );
        lines.push(`  ${''.padEnd(10)} an admin key, for /status, /stats, /dump: hopmap keys add NAME --role admin`);
        if (cfg.worker) {
          lines.push(
            `  worker     health: http://${cfg.host}:${cfg.workerHealthPort}   (id ${cfg.workerId})${workerReady ? '' : '   (not ready yet; see the log)'}`,
          );
        } else {
          lines.push('  worker     not started (--no-worker)');
        }
        const registered = toRegister.map((s) => s.label).filter((label) => !failed.includes(label));
        if (registered.length)
          lines.push(`  registry   ${registered.join(', ')} registered with the manager, which checks their health`);
        if (failed.length)
          lines.push(
            `  ${registered.length ? ''.padEnd(10) : 'registry  '} not registered: ${failed.join(', ')} (see the log); add on /workers`,
          );
        if (cfg.worker) {
          lines.push(
            '',
            `The worker probes the bootstrap targets on the internet at up to ${cfg.workerPps} pps (--worker-pps);`,
          );
          lines.push('hopmap up --no-worker (or worker: false) runs without it.');
        }
        lines.push('', 'Ctrl-C stops everything.', '');
        if (quiet) lines.push('From now on only warnings and errors show here (--verbose shows every log line).', '');
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        progress.stop();
      }
    }),
  );
  return cmd;
}
