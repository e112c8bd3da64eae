import { Command } from 'commander';
import { addDatabaseOptions } from '../config/common-config.js';
import { keyName, KEY_NAME_RULE } from '../keys/key-name.js';
import { createKey, isRole, listKeys, revokeKeysByName, ROLES } from '../keys/key-store.js';
import { CommandError, runCommand } from './run-command.js';
import { withDatabase } from './with-database.js';

export function keysCommand(): Command {
  const keys = new Command('keys').description(
    'API keys for workers, feeders and operators: Authorization: Bearer KEY at input, output and the manager gateway',
  );

  const add = addDatabaseOptions(new Command('add'))
    .description('make a key and print it once, as the last line (only its hash is stored)')
    .argument('<name>', KEY_NAME_RULE)
    .requiredOption(
      '--role <role>',
      `${ROLES.join('|')}: worker leases targets and posts results, feeder posts hops, admin may do everything`,
    );
  add.action(
    runCommand(async (rawName: string) => {
      const name = keyName.safeParse(rawName);
      if (!name.success)
        throw new CommandError(
          `invalid key name ${JSON.stringify(rawName)}: ${name.error.issues[0]?.message ?? KEY_NAME_RULE}`,
        );
      const role = String(add.opts().role);
      if (!isRole(role)) throw new CommandError(`invalid role ${JSON.stringify(role)}: use ${ROLES.join(', ')}`);
      await withDatabase(add, 'keys', async (pool) => {
        const { key, record } = await createKey(pool, { name: name.data, role, createdBy: 'cli' });
        // The key is the last line, so a script can take it with `tail -n 1`.
        process.stdout.write(
          `key ${record.prefix}… for ${record.name}, role ${record.role}; it is shown only now:\n${key}\n`,
        );
      });
    }),
  );

  const list = addDatabaseOptions(new Command('list')).description('list the keys (never the keys themselves)');
  list.action(
    runCommand(() =>
      withDatabase(list, 'keys', async (pool) => {
        const rows = await listKeys(pool);
        if (rows.length === 0) {
          process.stdout.write('no keys (hopmap keys add NAME --role worker|feeder|admin)\n');
          return;
        }
        const table = [
          ['name', 'prefix', 'role', 'created', 'last used', 'state'],
          ...rows.map((k) => [
            k.name,
            `${k.prefix}…`,
            k.role,
            k.createdAt.toISOString(),
            k.lastUsedAt?.toISOString() ?? 'never',
            k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active',
          ]),
        ];
        const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
        process.stdout.write(
          `${table
            .map((row) =>
              row
                .map((cell, i) => cell.padEnd(widths[i]!))
                .join('  ')
                .trimEnd(),
            )
            .join('\n')}\n`,
        );
      }),
    ),
  );

  const revoke = addDatabaseOptions(new Command('revoke'))
    .description('revoke every active key of that name, at once on every instance')
    .argument('<name>');
  revoke.action(
    runCommand((name: string) =>
      withDatabase(revoke, 'keys', async (pool) => {
        const rows = await revokeKeysByName(pool, name);
        if (rows.length === 0)
          throw new CommandError(`no active key named ${JSON.stringify(name)} (hopmap keys list shows them)`);
        process.stdout.write(
          `${rows.length} key(s) of ${name} revoked: ${rows.map((k) => `${k.prefix}…`).join(', ')}\n`,
        );
      }),
    ),
  );

  return keys.addCommand(add).addCommand(list).addCommand(revoke);
}
