import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { loadConfig } from '../../src/config/load-config.js';
import { LETSENCRYPT_DIRECTORY, LETSENCRYPT_STAGING_DIRECTORY } from '../../src/manager/tls/issue-acme-certificate.js';
import { tlsConfigShape, tlsSourceFromConfig } from '../../src/manager/tls/tls-config.js';

const schema = z.object(tlsConfigShape);
const source = (env: Record<string, string>) => tlsSourceFromConfig(loadConfig(schema, { env }));

describe('choosing the TLS source from configuration', () => {
  const cases: Array<[string, Record<string, string>, unknown]> = [
    ['nothing set: self-signed for localhost', {}, { kind: 'self-signed', domain: 'localhost' }],
    ['a domain alone: self-signed for it', { HOPMAP_DOMAIN: 'mgr.lan' }, { kind: 'self-signed', domain: 'mgr.lan' }],
    [
      'cert and key: files',
      { HOPMAP_TLS_CERT: '/etc/c.pem', HOPMAP_TLS_KEY: '/etc/k.pem' },
      { kind: 'file', certPath: '/etc/c.pem', keyPath: '/etc/k.pem' },
    ],
    [
      "domain and email: Let's Encrypt",
      { HOPMAP_DOMAIN: 'Hopmap.dy.fi', HOPMAP_EMAIL: 'ops@example.org' },
      {
        kind: 'acme',
        acme: {
          domain: 'hopmap.dy.fi',
          email: 'ops@example.org',
          directoryUrl: LETSENCRYPT_DIRECTORY,
          caPem: undefined,
          selfCheck: true,
        },
      },
    ],
    [
      'the staging alias',
      { HOPMAP_DOMAIN: 'hopmap.dy.fi', HOPMAP_EMAIL: 'ops@example.org', HOPMAP_ACME_DIRECTORY: 'letsencrypt-staging' },
      {
        kind: 'acme',
        acme: {
          domain: 'hopmap.dy.fi',
          email: 'ops@example.org',
          directoryUrl: LETSENCRYPT_STAGING_DIRECTORY,
          caPem: undefined,
          selfCheck: true,
        },
      },
    ],
    ['off: plain HTTP behind a proxy', { HOPMAP_TLS: 'off', HOPMAP_EMAIL: 'ops@example.org' }, { kind: 'off' }],
  ];
  for (const [name, env, want] of cases) it(name, () => assert.deepEqual(source(env), want));

  const errors: Array<[string, Record<string, string>, RegExp]> = [
    ['a certificate without its key', { HOPMAP_TLS_CERT: '/etc/c.pem' }, /tls_key: required/],
    ['ACME without a domain', { HOPMAP_EMAIL: 'ops@example.org' }, /domain: required with ACME/],
    ['ACME without an email', { HOPMAP_TLS: 'acme', HOPMAP_DOMAIN: 'hopmap.dy.fi' }, /email: required with ACME/],
    ['an unknown mode', { HOPMAP_TLS: 'letsencrypt' }, /environment HOPMAP_TLS/],
    ['a bad email', { HOPMAP_EMAIL: 'ops' }, /HOPMAP_EMAIL: expected an email address/],
    ['a bad domain', { HOPMAP_DOMAIN: 'not a name' }, /HOPMAP_DOMAIN: expected a DNS name/],
    [
      'an unreadable CA file',
      { HOPMAP_DOMAIN: 'a.dy.fi', HOPMAP_EMAIL: 'o@example.org', HOPMAP_ACME_CA_FILE: '/nonexistent/ca.pem' },
      /acme_ca_file: cannot read/,
    ],
  ];
  for (const [name, env, want] of errors) it(`refuses ${name}`, () => assert.throws(() => source(env), want));

  it('reads the CA file of a private ACME directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hopmap-tls-config-'));
    try {
      await writeFile(join(dir, 'ca.pem'), 'PEM');
      const got = source({
        HOPMAP_DOMAIN: 'a.dy.fi',
        HOPMAP_EMAIL: 'o@example.org',
        HOPMAP_ACME_DIRECTORY: 'https://ca.lan/dir',
        HOPMAP_ACME_CA_FILE: join(dir, 'ca.pem'),
        HOPMAP_ACME_SELF_CHECK: 'false',
      });
      assert.deepEqual(got, {
        kind: 'acme',
        acme: {
          domain: 'a.dy.fi',
          email: 'o@example.org',
          directoryUrl: 'https://ca.lan/dir',
          caPem: 'PEM',
          selfCheck: false,
        },
      });
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
