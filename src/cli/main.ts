import { Command } from 'commander';
import { VERSION } from '../version.js';
import { dbCommand } from './command-db.js';
import { enrichCommand } from './command-enrich.js';
import { inputCommand } from './command-input.js';
import { keysCommand } from './command-keys.js';
import { labCommand } from './command-lab.js';
import { managerCommand } from './command-manager.js';
import { mergeCommand } from './command-merge.js';
import { migrateCommand } from './command-migrate.js';
import { outputCommand } from './command-output.js';
import { pingCommand } from './command-ping.js';
import { targetsCommand } from './command-targets.js';
import { upCommand } from './command-up.js';
import { userCommand } from './command-user.js';

const program = new Command('hopmap')
  .description('hopmap: a distributed internet mapper on PostgreSQL')
  .version(VERSION)
  .showHelpAfterError()
  .addCommand(upCommand())
  .addCommand(inputCommand())
  .addCommand(pingCommand())
  .addCommand(outputCommand())
  .addCommand(managerCommand())
  .addCommand(userCommand())
  .addCommand(keysCommand())
  .addCommand(targetsCommand())
  .addCommand(enrichCommand())
  .addCommand(migrateCommand())
  .addCommand(mergeCommand())
  .addCommand(dbCommand())
  .addCommand(labCommand());

await program.parseAsync(process.argv);
