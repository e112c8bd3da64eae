import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { bool, port, postgresUrl } from '../../src/config/values.js';

const schema = z.object({
  port: port().default(8080),
  databaseUrl: postgresUrl().optional(),
  enableTraceroute: bool().default(true),
  intervalSeconds: z.coerce.number().positive().default(1),
});

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'hopmap-config-')), 'config.yaml');
  writeFileSync(path, text);
  return path;
}

describe('loadConfig', () => {
  it('takes defaults when nothing is given', () => {
    assert.deepEqual(loadConfig(schema, {}), { port: 8080, enableTraceroute: true, intervalSeconds: 1 });
  });

  it('ranks flags over environment over file over defaults', () => {
    const configFile = file('port: 1001\ninterval_seconds: 5\nenable_traceroute: false\n');
    const env = { HOPMAP_PORT: '1002', HOPMAP_INTERVAL_SECONDS: '7' };
    assert.deepEqual(loadConfig(schema, { configFile }), { port: 1001, intervalSeconds: 5, enableTraceroute: false });
    assert.deepEqual(loadConfig(schema, { configFile, env }), {
      port: 1002,
      intervalSeconds: 7,
      enableTraceroute: false,
    });
    assert.deepEqual(loadConfig(schema, { configFile, env, flags: { port: '1003' } }), {
      port: 1003,
      intervalSeconds: 7,
      enableTraceroute: false,
    });
  });

  it('reads standard environment names through aliases', () => {
    const cfg = loadConfig(schema, {
      env: { DATABASE_URL: 'postgres://x@h/db' },
      envAliases: { databaseUrl: ['DATABASE_URL'] },
    });
    assert.equal(cfg.databaseUrl, 'postgres://x@h/db');
  });

  const bad: Array<[string, Parameters<typeof loadConfig>[1], RegExp]> = [
    ['a bad flag names the flag', { flags: { port: 'eighty' } }, /--port: expected a port number/],
    ['a bad env value names the variable', { env: { HOPMAP_PORT: '70000' } }, /environment HOPMAP_PORT/],
    [
      'a bad file value names the file and key',
      { configFile: file('interval_seconds: -1\n') },
      /config\.yaml: interval_seconds/,
    ],
    [
      'a non-boolean is not silently false',
      { env: { HOPMAP_ENABLE_TRACEROUTE: 'ture' } },
      /HOPMAP_ENABLE_TRACEROUTE: expected true or false/,
    ],
    [
      'a wrong URL scheme',
      { env: { HOPMAP_DATABASE_URL: 'mysql://h/db' } },
      /HOPMAP_DATABASE_URL: expected a postgres/,
    ],
    [
      'an unknown file key is named',
      { configFile: file('port: 1\ninterval_secs: 2\n') },
      /unknown key 'interval_secs'/,
    ],
    ['a file that is not a mapping', { configFile: file('- a\n- b\n') }, /expected a mapping/],
    ['malformed YAML', { configFile: file('port: [1,\n') }, /not valid YAML/],
    ['a missing file', { configFile: '/nonexistent/hopmap.yaml' }, /cannot read config file/],
  ];
  for (const [name, sources, message] of bad) {
    it(`rejects: ${name}`, () => {
      assert.throws(
        () => loadConfig(schema, sources),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    });
  }

  it('accepts the explicit spellings of booleans', () => {
    for (const [text, value] of [
      ['true', true],
      ['1', true],
      ['yes', true],
      ['off', false],
      ['0', false],
    ] as const) {
      assert.equal(loadConfig(schema, { env: { HOPMAP_ENABLE_TRACEROUTE: text } }).enableTraceroute, value);
    }
  });
});
