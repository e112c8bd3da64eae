import { Command } from 'commander';
import { z } from 'zod';
import { addServiceOptions, serviceConfigShape } from '../config/common-config.js';
import { bool, duration, list, port, positiveInt } from '../config/values.js';
import { authMode } from '../keys/key-config.js';
import { DEFAULT_INPUT_PORT, inputService } from '../input/input-service.js';
import { DEFAULT_MAX_REISSUES } from '../input/serve-targets-routes.js';
import { parseTarget, type Block } from '../net/ip-address.js';
import { runCommand } from './run-command.js';
import { runServiceCommand } from './run-service-command.js';

const cidrList = () =>
  list().transform((items, ctx) =>
    items.flatMap((item): Block[] => {
      const parsed = parseTarget(item);
      if (parsed.ok) return [parsed.block];
      ctx.addIssue({ code: 'custom', message: parsed.reason });
      return [];
    }),
  );

export const inputConfig = z.object({
  ...serviceConfigShape,
  port: port().default(DEFAULT_INPUT_PORT),
  targets: z.string().min(1).optional(),
  exclude: z.string().min(1).optional(),
  allowCidr: cidrList().default([]),
  ipv6: bool().default(false),
  passCooldown: duration().default(60 * 60_000),
  leaseTtl: duration().default(5 * 60_000),
  maxBatch: positiveInt().max(10_000).default(1_000),
  maxReissues: z.coerce
    .number({ error: 'expected a number' })
    .int('expected a whole number')
    .min(0)
    .max(1_000)
    .default(DEFAULT_MAX_REISSUES),
  auth: authMode().default('keys'),
});

export function inputCommand(): Command {
  const cmd = addServiceOptions(new Command('input'), DEFAULT_INPUT_PORT)
    .description('the target feeder: interleaved, leased targets per consumer, and discovered hops')
    .option('--targets <path>', 'target file, or directory of .txt files, to import at start (idempotent)')
    .option('--exclude <file>', 'do-not-probe CIDRs to add to the list at start')
    .option('--allow-cidr <cidrs>', 'comma-separated reserved ranges that may be served anyway (labs: 198.18.0.0/15)')
    .option('--ipv6', 'serve IPv6 targets too')
    .option('--pass-cooldown <duration>', 'wait before a consumer starts its next pass (default 60m)')
    .option('--lease-ttl <duration>', 'how long a batch is leased before it is served again (default 5m)')
    .option('--max-batch <n>', 'largest n a consumer may ask for (default 1000)')
    .option(
      '--max-reissues <n>',
      `times an unacknowledged target is served again before it is set aside for the rest of the pass (default ${DEFAULT_MAX_REISSUES})`,
    )
    .option(
      '--auth <mode>',
      'keys: every route but /health, /ready, /metrics, /service-info needs a key of its role (default); off: anyone who reaches it (env HOPMAP_AUTH)',
    );
  cmd.action(
    runCommand(() =>
      runServiceCommand(cmd, inputConfig, (cfg) =>
        inputService({
          targets: cfg.targets,
          exclude: cfg.exclude,
          allow: cfg.allowCidr,
          ipv6: cfg.ipv6,
          passCooldownMs: cfg.passCooldown,
          leaseTtlMs: cfg.leaseTtl,
          maxBatch: cfg.maxBatch,
          maxReissues: cfg.maxReissues,
          auth: cfg.auth,
        }),
      ),
    ),
  );
  return cmd;
}
