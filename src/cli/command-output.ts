import { Command } from 'commander';
import { z } from 'zod';
import { addServiceOptions, serviceConfigShape } from '../config/common-config.js';
import { port } from '../config/values.js';
import { apiKey, authMode } from '../keys/key-config.js';
import { DEFAULT_OUTPUT_HEALTH_PORT, DEFAULT_OUTPUT_PORT, outputService } from '../output/output-service.js';
import { outputWiring } from './output-wiring.js';
import { runCommand } from './run-command.js';
import { runServiceCommand } from './run-service-command.js';

export const outputConfig = z.object({
  ...serviceConfigShape,
  port: port().default(DEFAULT_OUTPUT_PORT),
  healthPort: port().default(DEFAULT_OUTPUT_HEALTH_PORT),
  inputUrl: z.url().optional(),
  inputKey: apiKey().optional(),
  auth: authMode().default('keys'),
  retentionDays: z.coerce.number().positive().optional(),
  keep: z.coerce.number().int().positive().optional(),
  maxSizeMb: z.coerce.number().positive().optional(),
  archiveDir: z.string().min(1).optional(),
  pgDump: z.string().min(1).optional(),
});

export function outputCommand(): Command {
  const cmd = addServiceOptions(new Command('output'), DEFAULT_OUTPUT_PORT)
    .description('the results ingester: stores results once, extracts hops and links, feeds hops back')
    .option(
      '--health-port <port>',
      'separate port for /health, /ready, /metrics, /service-info, /stats, /recent (default 8091; 0: any free port; /stats and /recent need an admin key there too)',
    )
    .option('--input-url <url>', 'also POST new hops to this input service')
    .option(
      '--input-key <key>',
      'feeder key sent to --input-url (env HOPMAP_INPUT_KEY; hopmap keys add NAME --role feeder)',
    )
    .option(
      '--auth <mode>',
      'keys: every route but /health, /ready, /metrics, /service-info needs a key of its role (default); off: anyone who reaches it (env HOPMAP_AUTH)',
    )
    .option('--retention-days <n>', 'retire daily result partitions older than this (default: keep all)')
    .option('--keep <n>', 'keep at most this many daily partitions')
    .option('--max-size-mb <n>', 'retire the oldest partitions while results take more than this')
    .option('--archive-dir <dir>', 'write retired partitions there as NDJSON before dropping them')
    .option(
      '--pg-dump <path>',
      'pg_dump for GET /dump (default: the newest on the machine; it must be at least the server version)',
    );
  cmd.action(
    runCommand(() =>
      runServiceCommand(cmd, outputConfig, (cfg) =>
        outputService({
          ...outputWiring,
          inputUrl: cfg.inputUrl,
          inputKey: cfg.inputKey,
          auth: cfg.auth,
          pgDump: cfg.pgDump,
          rotation: {
            retentionDays: cfg.retentionDays,
            keep: cfg.keep,
            maxSizeMb: cfg.maxSizeMb,
            archiveDir: cfg.archiveDir,
          },
        }),
      ),
    ),
  );
  return cmd;
}
