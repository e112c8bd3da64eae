import { Command } from 'commander';
import { VERSION } from '../version.js';

/**
 * The commands, in the order `hopmap --help` lists them. Each module is imported only when needed: a process
 * started as `hopmap <command> …` (every service, worker and CLI call) loads that command's code alone, which
 * saves it about a second of CPU at start; anything else (`--help`, `help ping`, a mistyped command) loads
 * every command as before, so help, errors and suggestions are the same.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  up: async () => (await import('./command-up.js')).upCommand(),
  input: async () => (await import('./command-input.js')).inputCommand(),
  ping: async () => (await import('./command-ping.js')).pingCommand(),
  output: async () => (await import('./command-output.js')).outputCommand(),
  manager: async () => (await import('./command-manager.js')).managerCommand(),
  user: async () => (await import('./command-user.js')).userCommand(),
  keys: async () => (await import('./command-keys.js')).keysCommand(),
  targets: async () => (await import('./command-targets.js')).targetsCommand(),
  enrich: async () => (await import('./command-enrich.js')).enrichCommand(),
  migrate: async () => (await import('./command-migrate.js')).migrateCommand(),
  merge: async () => (await import('./command-merge.js')).mergeCommand(),
  db: async () => (await import('./command-db.js')).dbCommand(),
  lab: async () => (await import('./command-lab.js')).labCommand(),
};

const program = new Command('hopmap')
  .description('hopmap: a distributed internet mapper on PostgreSQL')
  .version(VERSION)
  .showHelpAfterError();
const asked = process.argv[2];
const names = asked !== undefined && Object.hasOwn(COMMANDS, asked) ? [asked] : Object.keys(COMMANDS);
for (const name of names) program.addCommand(await COMMANDS[name]!());

await program.parseAsync(process.argv);
