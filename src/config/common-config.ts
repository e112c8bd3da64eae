import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadConfig } from './load-config.js';
import { PROJECT_ROOT } from '../version.js';
import { bool, logLevel, port, positiveInt, postgresUrl } from './values.js';

/** Keys every command that touches the database understands. */
export const databaseConfigShape = {
  databaseUrl: postgresUrl().optional(),
  /** The PostgreSQL server itself, for what needs a session (migrations, graphile-worker's LISTEN); unset: databaseUrl. */
  databaseDirectUrl: postgresUrl().optional(),
  stateDir: z.string().min(1).default(join(PROJECT_ROOT, '.hopmap')),
  embeddedPort: port().default(54329),
  logLevel: logLevel().default('info'),
  verbose: bool().default(false),
};

/** Keys every HTTP service understands, on top of the database keys. */
export const serviceConfigShape = {
  ...databaseConfigShape,
  host: z.string().min(1).default('0.0.0.0'),
  name: z.string().min(1).optional(),
  migrate: bool().default(true),
  bodyLimit: z
    .string()
    .regex(/^\d+(b|kb|mb|gb)?$/i, 'expected a size such as 10mb')
    .default('10mb'),
  shutdownGraceMs: positiveInt().default(30_000),
  drainDelayMs: z.coerce.number().int().min(0).default(0),
  jobConcurrency: positiveInt().default(4),
};

export const ENV_ALIASES = {
  databaseUrl: ['DATABASE_URL'],
  databaseDirectUrl: ['DATABASE_DIRECT_URL'],
  logLevel: ['LOG_LEVEL'],
  port: ['PORT'],
};

export function addDatabaseOptions(cmd: Command): Command {
  return cmd
    .option(
      '--database-url <url>',
      'PostgreSQL connection string (env DATABASE_URL); may be PgBouncer in transaction mode; unset: embedded PostgreSQL',
    )
    .option(
      '--database-direct-url <url>',
      'the PostgreSQL server itself, for what needs a session (env DATABASE_DIRECT_URL); unset: --database-url',
    )
    .option('--state-dir <dir>', 'where the embedded PostgreSQL keeps its data (env HOPMAP_STATE_DIR)')
    .option('--embedded-port <port>', 'port of the embedded PostgreSQL (default 54329)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env LOG_LEVEL)')
    .option('--verbose', 'log at debug level')
    .option('-c, --config <file>', 'YAML or JSON config file (snake_case keys)');
}

export function addServiceOptions(cmd: Command, defaultPort: number): Command {
  return addDatabaseOptions(cmd)
    .option('--host <host>', 'address to listen on (default 0.0.0.0)')
    .option('--port <port>', `port to listen on (default ${defaultPort}; env PORT)`)
    .option('--name <name>', 'instance name shown in /service-info (default <service>@<hostname>)')
    .option('--no-migrate', 'do not apply migrations at start')
    .option('--body-limit <size>', 'largest JSON body accepted (default 10mb)')
    .option('--shutdown-grace-ms <ms>', 'how long in-flight requests may take at shutdown (default 30000)')
    .option(
      '--drain-delay-ms <ms>',
      'how long /ready answers 503 before the listener closes at shutdown (default 0; 5000 behind a load balancer)',
    )
    .option('--job-concurrency <n>', 'background jobs run at once (default 4)');
}

/** Only the options the user typed: commander fills defaults (e.g. `migrate: true` for --no-migrate) we must not treat as given. */
export function typedFlags(cmd: Command): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(cmd.opts())) {
    if (key !== 'config' && cmd.getOptionValueSource(key) === 'cli') out[key] = value;
  }
  return out;
}

/** A command's configuration: its typed flags over the environment over its `--config` file over defaults. */
export function loadCommandConfig<S extends z.ZodObject>(cmd: Command, schema: S): z.infer<S> {
  return loadConfig(schema, {
    flags: typedFlags(cmd),
    env: process.env,
    configFile: cmd.opts<{ config?: string }>().config,
    envAliases: ENV_ALIASES,
  });
}
