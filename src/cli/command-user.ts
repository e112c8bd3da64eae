import { Command } from 'commander';
import QRCode from 'qrcode';
import { z } from 'zod';
import { addDatabaseOptions, databaseConfigShape } from '../config/common-config.js';
import { createPool, type Pool } from '../db/create-pool.js';
import { migrateDatabase } from '../db/migrate.js';
import { resolveDatabase } from '../db/resolve-database.js';
import { createLogger } from '../log/create-logger.js';
import { requireServerKey, serverKeyOf, serverKeyShape } from '../manager/crypto/server-key-config.js';
import { addUser, listUsers, removeUser, UserError, type NewUser } from '../manager/users/manage-users.js';
import { loadManagerConfig } from './command-manager.js';
import { CommandError, runCommand } from './run-command.js';
import { colourAllowed } from './terminal-colour.js';

const withKeyConfig = z.object({ ...databaseConfigShape, ...serverKeyShape }).superRefine(requireServerKey);
const plainConfig = z.object(databaseConfigShape);

/** Opens the database (migrated), runs `fn`, and closes everything; a UserError becomes a one-line message. */
async function withUsers<S extends z.ZodObject>(
  cmd: Command,
  schema: S,
  fn: (pool: Pool, cfg: z.infer<S>) => Promise<void>,
): Promise<void> {
  const cfg = loadManagerConfig(cmd, schema) as z.infer<S> & z.infer<typeof plainConfig>;
  const log = createLogger({
    level: cfg.verbose ? 'debug' : cfg.logLevel === 'info' ? 'warn' : cfg.logLevel,
    name: 'user',
  });
  const db = await resolveDatabase(cfg, log);
  const pool = createPool(db.url, log, { max: 2 });
  try {
    await migrateDatabase(db.directUrl, log);
    await fn(pool, cfg);
  } catch (err) {
    throw err instanceof UserError ? new CommandError(err.message) : err;
  } finally {
    await pool.end();
    await db.embedded?.release();
  }
}

/** Shows a new user's TOTP secret, once: as a QR code to scan, the otpauth URI, and the secret to type in. */
export async function printNewUser(created: NewUser): Promise<void> {
  // On a terminal, the compact drawing with colour codes that keep it dark on light whatever the theme;
  // into a pipe or a file (or with NO_COLOR), the same code in plain block characters.
  const qr = await QRCode.toString(
    created.uri,
    colourAllowed(process.stdout) ? { type: 'terminal', small: true } : { type: 'utf8' },
  );
  process.stdout.write(
    `user ${created.name} added. Scan this with an authenticator app; it is shown only now:\n\n${qr}\n` +
      `${created.uri}\nsecret (to type in instead): ${created.secret}\n`,
  );
}

export function userCommand(): Command {
  const user = new Command('user').description("the manager's operators, who log in with a TOTP code");

  const add = addDatabaseOptions(new Command('add'))
    .description(
      'add a user and show their TOTP secret once, as a QR code to scan with an authenticator app (needs SERVER_KEY)',
    )
    .argument('<name>', "lower-case letters, digits, '.', '_', '-', '@'")
    .option('--server-key-file <file>', 'read the server key from this file instead of SERVER_KEY');
  add.action(
    runCommand((name: string) =>
      withUsers(add, withKeyConfig, async (pool, cfg) => {
        await printNewUser(await addUser(pool, serverKeyOf(cfg), name));
      }),
    ),
  );

  const list = addDatabaseOptions(new Command('list')).description('list the users');
  list.action(
    runCommand(() =>
      withUsers(list, plainConfig, async (pool) => {
        const rows = await listUsers(pool);
        if (rows.length === 0) {
          process.stdout.write('no users (hopmap user add NAME)\n');
          return;
        }
        const width = Math.max(4, ...rows.map((r) => r.name.length));
        const lines = rows.map(
          (r) => `${r.name.padEnd(width)}  ${r.createdAt.toISOString()}  ${r.lastLoginAt?.toISOString() ?? 'never'}`,
        );
        process.stdout.write(`${'name'.padEnd(width)}  ${'created'.padEnd(24)}  last login\n${lines.join('\n')}\n`);
      }),
    ),
  );

  const remove = addDatabaseOptions(new Command('remove'))
    .description('remove a user and end their sessions on every instance')
    .argument('<name>');
  remove.action(
    runCommand((name: string) =>
      withUsers(remove, plainConfig, async (pool) => {
        const { sessionsEnded } = await removeUser(pool, name);
        process.stdout.write(`user ${name} removed; ${sessionsEnded} session(s) ended\n`);
      }),
    ),
  );

  return user.addCommand(add).addCommand(list).addCommand(remove);
}
