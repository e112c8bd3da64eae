import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../../config/load-config.js';
import type { DyfiAccount } from './dyfi-update.js';

export const DYFI_UPDATE_URL = 'https://www.dy.fi/nic/update';

/** Keys the manager command adds to its schema; all three of domain, user and password, or none. */
export const ddnsConfigShape = {
  dyfiDomain: z
    .string()
    .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+dy\.fi$/i, 'expected a name under .dy.fi')
    .optional(),
  dyfiUser: z.string().min(1).optional(),
  dyfiPass: z.string().min(1).optional(),
  dyfiUrl: z.url().default(DYFI_UPDATE_URL),
};

/** dy.fi's own variable names, beside HOPMAP_DYFI_*. */
export const DDNS_ENV_ALIASES = { dyfiDomain: ['DYFI_DOMAIN'], dyfiUser: ['DYFI_USER'], dyfiPass: ['DYFI_PASS'] };

export type DdnsConfig = z.infer<z.ZodObject<typeof ddnsConfigShape>>;

/** No --dyfi-pass flag: a password on the command line shows in `ps`; it comes from DYFI_PASS or the config file. */
export function addDdnsOptions(cmd: Command): Command {
  return cmd
    .option(
      '--dyfi-domain <name>',
      'keep this .dy.fi name pointed at a live manager instance (env DYFI_DOMAIN; DYFI_USER and DYFI_PASS too)',
    )
    .option('--dyfi-user <user>', 'dy.fi account (env DYFI_USER)')
    .option('--dyfi-url <url>', `dy.fi update URL (default ${DYFI_UPDATE_URL})`);
}

/** The dy.fi account when dynamic DNS is configured, undefined when not; a partial setting names what is missing. */
export function dyfiFromConfig(cfg: DdnsConfig): DyfiAccount | undefined {
  const given = { dyfi_domain: cfg.dyfiDomain, dyfi_user: cfg.dyfiUser, dyfi_pass: cfg.dyfiPass };
  const missing = Object.entries(given)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length === 3) return undefined;
  if (missing.length)
    throw new ConfigError(
      `invalid configuration ${missing.join(', ')}: required with dynamic DNS (set DYFI_DOMAIN, DYFI_USER and DYFI_PASS together)`,
    );
  return { url: cfg.dyfiUrl, domain: cfg.dyfiDomain!.toLowerCase(), user: cfg.dyfiUser!, pass: cfg.dyfiPass! };
}
