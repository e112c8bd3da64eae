import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { Command } from 'commander';
import pg from 'pg';
import { z } from 'zod';
import { addDatabaseOptions, databaseConfigShape } from '../config/common-config.js';
import { port } from '../config/values.js';
import { createPool } from '../db/create-pool.js';
import { migrateDatabase } from '../db/migrate.js';
import { resolveDatabase } from '../db/resolve-database.js';
import { LAB_MANAGER_PORT } from '../lab/lab-map-hint.js';
import { createLogger } from '../log/create-logger.js';
import { ensureServerKeyFile, serverKeyPath } from '../manager/crypto/server-key.js';
import { serverKeyShape } from '../manager/crypto/server-key-config.js';
import { addUser, listUsers } from '../manager/users/manage-users.js';
import { isValidUserName } from '../manager/users/user-name.js';
import { Lifecycle } from '../process/lifecycle.js';
import { Supervisor } from '../process/supervise-children.js';
import { localAddress } from '../up/up-worker.js';
import { waitUntilReady } from '../up/wait-until-ready.js';
import { BIN_PATH } from '../version.js';
import { runPlace } from './command-lab-run.js';
import { loadManagerConfig } from './command-manager.js';
import { printNewUser } from './command-user.js';
import { CommandError, runCommand } from './run-command.js';

const mapConfig = z.object({
  ...databaseConfigShape,
  ...serverKeyShape,
  name: z.string().optional(),
  database: z.string().optional(),
  host: z.string().min(1).default('127.0.0.1'),
  port: port().default(LAB_MANAGER_PORT),
  user: z.string().optional(),
});

/** The user a first start makes: --user, else whoever ran the command (through sudo too), else `lab`. */
function defaultUserName(): string {
  const login = (process.env.SUDO_USER || userInfo().username).toLowerCase();
  return isValidUserName(login) ? login : 'lab';
}

export function labMapCommand(): Command {
  const cmd = addDatabaseOptions(new Command('map'))
    .description(
      "serve a lab run's map in the manager until Ctrl-C, making a user with a TOTP secret on first use (docs/lab.md)",
    )
    .argument('<file>', 'the topology YAML file the run used')
    .option('--name <name>', "the lab's name, if the run gave it another than the file's")
    .option('--database <name>', "the run's database on the server (default hopmap_lab_<name>)")
    .option('--host <host>', 'address the manager listens on (default 127.0.0.1)')
    .option('--port <port>', `port of the manager (default ${LAB_MANAGER_PORT})`)
    .option('--user <name>', 'the user to make when the database has none (default: your login name)')
    .option(
      '--server-key-file <file>',
      'the server key (default SERVER_KEY, else the state dir\'s server.key as "up" keeps)',
    );
  cmd.action(
    runCommand(async (file: string) => {
      const cfg = loadManagerConfig(cmd, mapConfig);
      const log = createLogger({
        level: cfg.verbose ? 'debug' : cfg.logLevel === 'info' ? 'warn' : cfg.logLevel,
        name: 'lab-map',
      });
      const place = runPlace(file, { ...cfg, runDir: undefined });
      const userName = cfg.user ?? defaultUserName();
      if (!isValidUserName(userName))
        throw new CommandError(`--user ${userName}: use lower-case letters, digits, '.', '_', '-' or '@'`);
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(place.database))
        throw new CommandError(`database name "${place.database}": use a-z, 0-9 and _`);
      await assertPortFree(cfg.host, cfg.port);

      const lifecycle = new Lifecycle(log);
      lifecycle.handleSignals();
      // The manager is a child process: nothing else holds this one open while it serves.
      const keepAlive = setInterval(() => {}, 1 << 30);
      lifecycle.onShutdown('keep-alive', () => {
        clearInterval(keepAlive);
        process.stdout.write('stopped\n');
      });
      try {
        const db = await resolveDatabase(cfg, log);
        if (db.embedded) lifecycle.onShutdown('embedded PostgreSQL', async () => void (await db.embedded!.release()));
        const url = inDatabase(db.url, place.database);
        const directUrl = inDatabase(db.directUrl, place.database);
        await assertDatabaseExists(directUrl, place.database, file);
        await migrateDatabase(directUrl, log);

        // The users' TOTP secrets are sealed with the server key: SERVER_KEY or a file when given, else the one
        // `hopmap up` keeps in the state dir (made now if there is none).
        const keyMade = !cfg.serverKey && !cfg.serverKeyFile && !existsSync(serverKeyPath(cfg.stateDir));
        const serverKey = cfg.serverKey ?? cfg.serverKeyFile ?? ensureServerKeyFile(cfg.stateDir).key;
        const pool = createPool(url, log, { max: 2 });
        let users: string[];
        try {
          users = (await listUsers(pool)).map((u) => u.name);
          if (users.length === 0) {
            await printNewUser(await addUser(pool, serverKey, userName));
            users = [userName];
          }
        } finally {
          await pool.end();
        }

        const supervisor = new Supervisor(log.child({ module: 'supervisor' }));
        lifecycle.onShutdown('manager', () => supervisor.stopAll(35_000));
        const key = serverKey.toString('base64');
        supervisor.start({
          name: 'manager',
          args: [
            BIN_PATH,
            'manager',
            '--no-migrate',
            '--host',
            cfg.host,
            '--port',
            String(cfg.port),
            '--tls',
            'self-signed',
            '--log-level',
            cfg.verbose ? 'debug' : 'warn',
          ],
          // In the environment, not argv: argv is public.
          env: {
            DATABASE_URL: url,
            DATABASE_DIRECT_URL: directUrl,
            SERVER_KEY: key,
            HOPMAP_SERVER_KEY: key,
            HOPMAP_SERVER_KEY_FILE: '',
          },
        });
        const base = `https://${localAddress(cfg.host)}:${cfg.port}`;
        if (!(await waitUntilReady(base, 60_000)))
          throw new CommandError(`the manager did not answer on ${base} within 60 s; see its log above`);

        const lines = [
          '',
          `The map of lab ${place.name} (database ${place.database}) is served at`,
          `  ${base}/map/graph   (also /world, /paths; self-signed certificate: the browser asks once)`,
          users.length === 1
            ? `  sign in as ${users[0]} with the code your authenticator app shows`
            : `  sign in as one of ${users.join(', ')} with the code your authenticator app shows`,
        ];
        if (keyMade)
          lines.push(`  server key ${serverKeyPath(cfg.stateDir)} (made now; keep it: it opens the TOTP secrets)`);
        lines.push('', 'Ctrl-C stops it.', '');
        process.stdout.write(lines.join('\n'));
      } catch (err) {
        await lifecycle.shutdown('failed to start');
        throw err;
      }
    }),
  );
  return cmd;
}

function inDatabase(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

async function assertDatabaseExists(url: string, database: string, file: string): Promise<void> {
  const client = new pg.Client(url);
  try {
    await client.connect();
  } catch (err) {
    if ((err as { code?: string }).code === '3D000')
      throw new CommandError(`no database ${database} on this server: hopmap lab run ${file} makes it`);
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A taken port would leave the manager restarting until the wait gives up; say so at once. */
function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new CommandError(`port ${port} on ${host} is in use: stop what serves there, or say --port`)
          : err,
      ),
    );
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}
