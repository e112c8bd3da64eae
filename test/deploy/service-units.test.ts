import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { z } from 'zod';
import { inputConfig } from '../../src/cli/command-input.js';
import { managerConfig } from '../../src/cli/command-manager.js';
import { outputConfig } from '../../src/cli/command-output.js';
import { ENV_ALIASES } from '../../src/config/common-config.js';
import { envName, loadConfig } from '../../src/config/load-config.js';
import { KEY_BYTES } from '../../src/manager/crypto/seal.js';
import { DDNS_ENV_ALIASES } from '../../src/manager/ddns/ddns-config.js';
import { workerConfig } from '../../src/worker/worker-config.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { assertNoLeaks } from '../support/leaks.js';
import {
  makeFakeRoot,
  parseUnit,
  readUnit,
  securityRating,
  timeSpanMs,
  UNIT_DIR,
  unitFiles,
  verifyUnit,
} from './systemd-verify.js';
import { needs } from '../support/needs.js';

const skip = needs('systemd-analyze');

// systemd-units.test.ts verifies every .service file (and that verify rejects broken copies); this file
// holds what is particular to the input, output and manager units, the target and the example env file.
const fake = makeFakeRoot();
after(async () => {
  fake.remove();
  await assertNoLeaks();
});

const SCHEMAS: Record<string, z.ZodObject> = {
  input: inputConfig,
  output: outputConfig,
  manager: managerConfig,
};
const SERVICES = Object.keys(SCHEMAS);
const ALIASES: Record<string, string[]> = { ...ENV_ALIASES, ...DDNS_ENV_ALIASES, serverKey: ['SERVER_KEY'] };
// Names the services read that are not configuration keys: the direct connection for LISTEN and
// advisory locks behind PgBouncer, and Node's own.
const OTHER_ENV = new Set(['DATABASE_DIRECT_URL', 'NODE_ENV']);

/** The environment names a schema's keys answer to: HOPMAP_<KEY> and the usual aliases. */
const envNamesOf = (schema: z.ZodObject): Set<string> =>
  new Set(Object.keys(schema.shape).flatMap((key) => [envName(key), ...(ALIASES[key] ?? [])]));

/** The Environment= assignments of a unit, with the specifiers an instance `2` on host `edge` would see. */
function unitEnvironment(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of parseUnit(text).get('Environment') ?? []) {
    for (const assignment of line.split(/\s+/)) {
      const eq = assignment.indexOf('=');
      out[assignment.slice(0, eq)] = assignment
        .slice(eq + 1)
        .replaceAll('%i', '2')
        .replaceAll('%H', 'edge');
    }
  }
  return out;
}

/** The KEY=value lines of an env file, and with `commented` also the `#KEY=value` examples in it. */
function envFileAssignments(text: string, { commented = false } = {}): Record<string, string> {
  const re = commented ? /^#?([A-Z][A-Z0-9_]*)=(.*)$/ : /^([A-Z][A-Z0-9_]*)=(.*)$/;
  return Object.fromEntries(
    text.split('\n').flatMap((line) => {
      const m = re.exec(line.trim());
      return m ? [[m[1]!, m[2]!]] : [];
    }),
  );
}

const EXAMPLE_ENV = readFileSync(join(UNIT_DIR, 'hopmap.env.example'), 'utf8');
const SERVER_KEY = randomBytes(KEY_BYTES).toString('base64');

describe('systemd units of the services', { skip }, () => {
  it('ships a unit and a template for each service, and the target', () => {
    const files = unitFiles();
    for (const service of SERVICES) {
      assert.ok(files.includes(`hopmap-${service}.service`), `systemd/hopmap-${service}.service`);
      assert.ok(files.includes(`hopmap-${service}@.service`), `systemd/hopmap-${service}@.service`);
    }
  });

  it('hopmap.target: systemd-analyze verify accepts it, and rejects a copy with a misspelled directive', async () => {
    const text = readFileSync(join(UNIT_DIR, 'hopmap.target'), 'utf8');
    const good = await verifyUnit(fake.root, 'hopmap.target', text);
    assert.ok(good.ok, good.output);
    const broken = await verifyUnit(fake.root, 'hopmap.target', text.replace('WantedBy=', 'WantedB='));
    assert.ok(!broken.ok, `a broken hopmap.target passed verify:\n${broken.output}`);
  });

  for (const service of SERVICES) {
    for (const file of [`hopmap-${service}.service`, `hopmap-${service}@.service`]) {
      const template = file.includes('@');
      const unit = () => parseUnit(readUnit(file));
      const one = (key: string) => {
        const values = unit().get(key);
        assert.equal(values?.length, 1, `${key} is set once in ${file}`);
        return values[0]!;
      };

      it(`${file}: runs hopmap ${service} unprivileged with no capability at all, in a tight sandbox`, () => {
        assert.equal(one('ExecStart'), `/usr/bin/node /opt/hopmap/bin/hopmap.js ${service}`);
        assert.equal(one('User'), 'hopmap');
        // An empty CapabilityBoundingSet= drops every capability; a non-empty one would grant some.
        assert.equal(one('CapabilityBoundingSet'), '');
        assert.equal(one('AmbientCapabilities'), '');
        for (const key of [
          'NoNewPrivileges',
          'ProtectHome',
          'PrivateTmp',
          'PrivateDevices',
          'ProtectKernelTunables',
          'ProtectKernelModules',
          'ProtectControlGroups',
          'RestrictNamespaces',
          'LockPersonality',
          'RestrictSUIDSGID',
        ]) {
          assert.equal(one(key), 'yes', key);
        }
        assert.equal(one('ProtectSystem'), 'strict');
        assert.equal(one('MemoryDenyWriteExecute'), 'no', 'V8 needs W+X pages');
        assert.equal(one('Restart'), 'on-failure');
        assert.equal(one('RestartPreventExitStatus'), '2', 'a configuration error is not retried');
        assert.deepEqual(unit().get('WantedBy'), ['hopmap.target']);
        assert.deepEqual(unit().get('PartOf'), ['hopmap.target']);
      });

      it(`${file}: reads the shared env file${template ? " and the instance's own" : ''}, and keeps ${template ? "the instance's" : 'its'} own state directory`, () => {
        const files = unit().get('EnvironmentFile') ?? [];
        // Without the '-' prefix a missing file stops the start instead of starting with no database.
        assert.equal(files[0], '/etc/hopmap/hopmap.env');
        assert.ok(files.includes(`-/etc/hopmap/${service}.env`), `${file} reads /etc/hopmap/${service}.env if present`);
        if (template)
          assert.equal(files.at(-1), `/etc/hopmap/${service}-%i.env`, 'the instance file is last, so its port wins');
        const state = one('StateDirectory');
        assert.equal(state, template ? `hopmap/${service}-%i` : `hopmap/${service}`);
        assert.equal(unitEnvironment(readUnit(file)).HOPMAP_STATE_DIR, `/var/lib/${state.replaceAll('%i', '2')}`);
      });

      it(`${file}: every variable it sets is one hopmap ${service} reads, and its values parse`, () => {
        const env = unitEnvironment(readUnit(file));
        const known = envNamesOf(SCHEMAS[service]!);
        for (const name of Object.keys(env))
          assert.ok(
            known.has(name) || OTHER_ENV.has(name),
            `${file} sets ${name}, which hopmap ${service} does not read`,
          );
        const cfg: Record<string, unknown> = loadConfig(SCHEMAS[service]!, {
          env: { ...envFileAssignments(EXAMPLE_ENV), SERVER_KEY, ...env },
          envAliases: ALIASES,
        });
        if (template)
          assert.equal(cfg.name, `${service}-2@edge`, 'instances of a template tell themselves apart in /service-info');
      });

      it(`${file}: TimeoutStopSec outlasts the drain delay and the shutdown grace`, () => {
        const cfg = loadConfig(SCHEMAS[service]!, {
          env: { ...unitEnvironment(readUnit(file)), SERVER_KEY },
          envAliases: ALIASES,
        }) as { drainDelayMs: number; shutdownGraceMs: number };
        assert.ok(cfg.drainDelayMs > 0, 'a load balancer gets time to see /ready turn 503');
        const stopMs = timeSpanMs(one('TimeoutStopSec'));
        assert.ok(
          stopMs > cfg.drainDelayMs + cfg.shutdownGraceMs,
          `TimeoutStopSec ${stopMs} ms must exceed ${cfg.drainDelayMs} + ${cfg.shutdownGraceMs} ms`,
        );
      });

      it(`${file}: systemd rates its sandbox OK`, async () => {
        const { exposure, label, output } = await securityRating(fake.root, file);
        assert.ok(['SAFE', 'OK'].includes(label), `exposure ${exposure} ${label}:\n${output}`);
      });
    }
  }

  it('hopmap.env.example sets only names some service reads, and a database URL that parses', () => {
    const known = new Set([
      ...Object.values(SCHEMAS).flatMap((s) => [...envNamesOf(s)]),
      ...envNamesOf(workerConfig),
      ...OTHER_ENV,
    ]);
    const assignments = envFileAssignments(EXAMPLE_ENV, { commented: true });
    assert.ok(Object.keys(assignments).length >= 3);
    for (const name of Object.keys(assignments))
      assert.ok(known.has(name), `hopmap.env.example sets ${name}, which no service reads`);
    for (const [service, schema] of Object.entries(SCHEMAS)) {
      const cfg = loadConfig(schema, {
        env: { ...envFileAssignments(EXAMPLE_ENV), SERVER_KEY },
        envAliases: ALIASES,
      }) as { databaseUrl?: string };
      assert.match(cfg.databaseUrl ?? '', /^postgres:\/\//, `${service} finds DATABASE_URL in it`);
    }
  });

  it('the docs name every unit shipped', () => {
    const doc = readFileSync(join(PROJECT_ROOT, 'docs/deploy-services.md'), 'utf8');
    for (const file of [...unitFiles().filter((f) => !f.startsWith('hopmap-ping')), 'hopmap.target'])
      assert.ok(doc.includes(file), `docs/deploy-services.md names ${file}`);
  });
});
