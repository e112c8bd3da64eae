import { Command } from 'commander';
import { z } from 'zod';
import { addServiceOptions, serviceConfigShape } from '../config/common-config.js';
import { port } from '../config/values.js';
import { DEFAULT_OUTPUT_PORT, outputService } from '../output/output-service.js';
import { runCommand } from './run-command.js';
import { runServiceCommand } from './run-service-command.js';

export const outputConfig = z.object({
  ...serviceConfigShape,
  port: port().default(DEFAULT_OUTPUT_PORT),
  inputUrl: z.url().optional(),
});

export function outputCommand(): Command {
  const cmd = addServiceOptions(new Command('output'), DEFAULT_OUTPUT_PORT)
    .description('the results ingester: stores results once, extracts hops and links, feeds hops back')
    .option('--input-url <url>', 'also POST new hops to this input service');
  cmd.action(runCommand(() => runServiceCommand(cmd, outputConfig, (cfg) => outputService({ inputUrl: cfg.inputUrl }))));
  return cmd;
}
