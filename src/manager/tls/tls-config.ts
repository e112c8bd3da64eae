import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../../config/load-config.js';
import { bool } from '../../config/values.js';
import { LETSENCRYPT_DIRECTORY, LETSENCRYPT_STAGING_DIRECTORY, type AcmeOptions } from './issue-acme-certificate.js';

/** Where the manager's certificate comes from; `auto` picks by which keys are set. */
export const TLS_MODES = ['auto', 'file', 'self-signed', 'acme', 'off'] as const;

export type TlsSource =
  | { kind: 'off' }
  | { kind: 'file'; certPath: string; keyPath: string }
  | { kind: 'self-signed'; domain: string }
  | { kind: 'acme'; acme: AcmeOptions };

const DIRECTORY_ALIASES: Record<string, string> = {
  letsencrypt: LETSENCRYPT_DIRECTORY,
  'letsencrypt-staging': LETSENCRYPT_STAGING_DIRECTORY,
};

/** Keys the manager command adds to its schema. */
export const tlsConfigShape = {
  tls: z.enum(TLS_MODES).default('auto'),
  tlsCert: z.string().min(1).optional(),
  tlsKey: z.string().min(1).optional(),
  domain: z
    .string()
    .regex(
      /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i,
      'expected a DNS name',
    )
    .optional(),
  email: z.email('expected an email address').optional(),
  acmeDirectory: z
    .string()
    .transform((v) => DIRECTORY_ALIASES[v] ?? v)
    .pipe(z.url('expected an ACME directory URL, letsencrypt or letsencrypt-staging'))
    .default(LETSENCRYPT_DIRECTORY),
  acmeCaFile: z.string().min(1).optional(),
  acmeSelfCheck: bool().default(true),
};

export type TlsConfig = z.infer<z.ZodObject<typeof tlsConfigShape>>;

export function addTlsOptions(cmd: Command): Command {
  return cmd
    .option(
      '--tls <mode>',
      'auto|file|self-signed|acme|off (default auto: file with --tls-cert, acme with --email, else self-signed)',
    )
    .option('--tls-cert <path>', 'certificate chain (PEM) to serve; reread when it changes')
    .option('--tls-key <path>', 'private key (PEM) of --tls-cert')
    .option(
      '--domain <name>',
      "the manager's DNS name: the ACME certificate's name, or the self-signed one's (default localhost)",
    )
    .option(
      '--email <address>',
      "ACME account contact; with it, certificates come from Let's Encrypt (you agree to its terms)",
    )
    .option('--acme-directory <url>', 'ACME directory URL, or letsencrypt / letsencrypt-staging (default letsencrypt)')
    .option('--acme-ca-file <path>', "CA (PEM) to trust for a private ACME directory's HTTPS")
    .option(
      '--acme-self-check <bool>',
      'fetch our own challenge before the CA does (default true; false behind a NAT without hairpinning)',
    );
}

/** The one source the configuration asks for; a missing companion key stops the process naming it. */
export function tlsSourceFromConfig(cfg: TlsConfig): TlsSource {
  const mode = cfg.tls === 'auto' ? (cfg.tlsCert || cfg.tlsKey ? 'file' : cfg.email ? 'acme' : 'self-signed') : cfg.tls;
  switch (mode) {
    case 'off':
      return { kind: 'off' };
    case 'file':
      if (!cfg.tlsCert || !cfg.tlsKey)
        throw new ConfigError(
          `invalid configuration tls_${cfg.tlsCert ? 'key' : 'cert'}: required with TLS from files (give both --tls-cert and --tls-key)`,
        );
      return { kind: 'file', certPath: cfg.tlsCert, keyPath: cfg.tlsKey };
    case 'self-signed':
      return { kind: 'self-signed', domain: cfg.domain ?? 'localhost' };
    case 'acme': {
      if (!cfg.domain)
        throw new ConfigError('invalid configuration domain: required with ACME (the name the certificate is for)');
      if (!cfg.email) throw new ConfigError('invalid configuration email: required with ACME (the account contact)');
      let caPem: string | undefined;
      if (cfg.acmeCaFile) {
        try {
          caPem = readFileSync(cfg.acmeCaFile, 'utf8');
        } catch (err) {
          throw new ConfigError(
            `invalid configuration acme_ca_file: cannot read ${cfg.acmeCaFile}: ${(err as Error).message}`,
          );
        }
      }
      return {
        kind: 'acme',
        acme: {
          domain: cfg.domain.toLowerCase(),
          email: cfg.email,
          directoryUrl: cfg.acmeDirectory,
          caPem,
          selfCheck: cfg.acmeSelfCheck,
        },
      };
    }
  }
}
