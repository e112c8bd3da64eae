import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { inputConfig } from '../../src/cli/command-input.js';
import { managerConfig } from '../../src/cli/command-manager.js';
import { outputConfig } from '../../src/cli/command-output.js';
import { ENV_ALIASES } from '../../src/config/common-config.js';
import { envName } from '../../src/config/load-config.js';
import { DEFAULT_INPUT_PORT } from '../../src/input/input-service.js';
import { KEY_BYTES } from '../../src/manager/crypto/seal.js';
import { DEFAULT_MANAGER_PORT } from '../../src/manager/manager-service.js';
import { DEFAULT_OUTPUT_HEALTH_PORT, DEFAULT_OUTPUT_PORT } from '../../src/output/output-service.js';
import { workerConfig } from '../../src/worker/worker-config.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { assertNoLeaks } from '../support/leaks.js';
import { needs } from '../support/needs.js';

const skip = needs('docker-compose', 'nginx');

// Debian's docker-compose (1.29) resolves and validates the file; no Docker engine runs here, so this
// is as far as the check goes: images are not built and containers are not started.
const run = promisify(execFile);
const COMPOSE_FILE = join(PROJECT_ROOT, 'docker-compose.yml');
const UPSTREAMS_FILE = join(PROJECT_ROOT, 'deploy/compose/nginx-upstreams.conf');
const scratch = mkdtempSync(join(tmpdir(), 'hopmap-compose-'));
const SERVER_KEY = randomBytes(KEY_BYTES).toString('base64');

after(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await assertNoLeaks();
});

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  user?: string;
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: Array<string | { type: string; source: string; target: string }>;
  cap_add?: string[];
  cap_drop?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** `docker-compose config` of a file (relative paths as from the checkout), parsed; or its error. */
async function composeConfig(
  file: string,
  env: Record<string, string> = { SERVER_KEY },
): Promise<{ ok: true; config: Compose } | { ok: false; output: string }> {
  try {
    const { stdout } = await run('docker-compose', ['--project-directory', PROJECT_ROOT, '-f', file, 'config'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    });
    return { ok: true, config: parseYaml(stdout) as Compose };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error("docker-compose not found: apt-get install docker-compose (Debian's package)");
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const SCHEMAS: Record<string, z.ZodObject> = {
  input: inputConfig,
  output: outputConfig,
  manager: managerConfig,
  ping: workerConfig,
};
const ALIASES: Record<string, string[]> = { ...ENV_ALIASES, serverKey: ['SERVER_KEY'] };
const envNamesOf = (schema: z.ZodObject) =>
  new Set(Object.keys(schema.shape).flatMap((key) => [envName(key), ...(ALIASES[key] ?? [])]));
/** Where each command answers /ready in its container. */
const READY_PORT: Record<string, number> = {
  input: DEFAULT_INPUT_PORT,
  output: DEFAULT_OUTPUT_HEALTH_PORT,
  manager: DEFAULT_MANAGER_PORT,
  ping: workerConfig.shape.healthCheckPort.parse(undefined),
};
/** Where nginx sends each command's traffic. */
const SERVICE_PORT: Record<string, number> = {
  input: DEFAULT_INPUT_PORT,
  output: DEFAULT_OUTPUT_PORT,
  manager: DEFAULT_MANAGER_PORT,
};

const byCommand = (config: Compose, command: string) =>
  Object.entries(config.services).filter(([, s]) => s.command?.[0] === command);
const mounts = (s: Service) =>
  (s.volumes ?? []).map((v) => (typeof v === 'string' ? { source: v.split(':')[0]!, target: v.split(':')[1]! } : v));

/** The upstream blocks of an nginx file: name → the host:port of each server. */
function parseUpstreams(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const body = text.replace(/#.*$/gm, '');
  for (const m of body.matchAll(/upstream\s+(\S+)\s*\{([^}]*)\}/g)) {
    out.set(
      m[1]!,
      [...m[2]!.matchAll(/^\s*server\s+(\S+)/gm)].map((s) => s[1]!),
    );
  }
  return out;
}

/** What the issue asks of the compose file; throws on the first thing missing. */
function assertDeployment(config: Compose): void {
  const declared = new Set(Object.keys(config.volumes ?? {}));
  const postgres = Object.entries(config.services).filter(([, s]) => /^postgres:/.test(s.image ?? ''));
  assert.equal(postgres.length, 1, 'one PostgreSQL service');
  const [pgName, pg] = postgres[0]!;
  assert.ok(pg.healthcheck?.test.join(' ').includes('pg_isready'), 'PostgreSQL has a health check');
  assert.ok(
    mounts(pg).some((m) => declared.has(m.source) && m.target === '/var/lib/postgresql/data'),
    'PostgreSQL keeps its data in a named volume',
  );

  for (const command of ['input', 'output', 'manager', 'ping']) {
    const instances = byCommand(config, command);
    assert.equal(
      instances.length,
      command === 'ping' ? 1 : 2,
      `${command === 'ping' ? 'one worker' : `2 instances of ${command}`} (found ${instances.map(([n]) => n).join(', ') || 'none'})`,
    );
    const names = new Set<string>();
    for (const [name, s] of instances) {
      assert.ok(s.build !== undefined, `${name} is built from the checkout's Dockerfile`);
      const probe = s.healthcheck?.test.join(' ') ?? '';
      assert.match(
        probe,
        new RegExp(`127\\.0\\.0\\.1:${READY_PORT[command]}/ready`),
        `${name}'s health check asks /ready on port ${READY_PORT[command]}`,
      );
      const env = s.environment ?? {};
      const known = envNamesOf(SCHEMAS[command]!);
      for (const key of Object.keys(env))
        assert.ok(known.has(key), `${name} sets ${key}, which hopmap ${command} does not read`);
      if (command === 'ping') {
        assert.deepEqual(s.cap_add, ['NET_RAW'], 'the worker gets CAP_NET_RAW and no other capability');
        assert.match(env.HOPMAP_INPUT_FILE ?? '', /^http:\/\/nginx:/, 'the worker fetches targets through nginx');
        assert.match(env.HOPMAP_OUTPUT_FILE ?? '', /^http:\/\/nginx:/, 'the worker delivers results through nginx');
        assert.ok(
          mounts(s).some((m) => declared.has(m.source) && m.target === env.HOPMAP_SPOOL_DIR),
          'the spool is a named volume',
        );
      } else {
        assert.deepEqual(s.cap_drop, ['ALL'], `${name} runs without capabilities`);
        assert.equal(s.cap_add, undefined);
        assert.equal(s.depends_on?.[pgName]?.condition, 'service_healthy', `${name} waits for a healthy PostgreSQL`);
        assert.equal(
          new URL(env.DATABASE_URL ?? 'x:').hostname,
          pgName,
          `${name}'s DATABASE_URL is the compose PostgreSQL`,
        );
        names.add(env.HOPMAP_NAME ?? '');
      }
    }
    if (command !== 'ping') assert.equal(names.size, 2, `the ${command} instances have names of their own`);
  }

  const nginx = Object.entries(config.services).filter(([, s]) => /^nginx:/.test(s.image ?? ''));
  assert.equal(nginx.length, 1, 'one nginx');
  const [, lb] = nginx[0]!;
  assert.ok(lb.healthcheck, 'nginx has a health check');
  const confd = mounts(lb).filter((m) => m.target.startsWith('/etc/nginx/conf.d/'));
  for (const file of ['deploy/nginx/hopmap.conf', 'deploy/compose/nginx-upstreams.conf']) {
    assert.ok(
      confd.some((m) => m.source === join(PROJECT_ROOT, file)),
      `nginx mounts ${file} into /etc/nginx/conf.d/`,
    );
  }
  for (const command of ['input', 'output', 'manager']) {
    for (const [name] of byCommand(config, command))
      assert.equal(lb.depends_on?.[name]?.condition, 'service_healthy', `nginx waits for ${name}`);
  }
  for (const name of declared) {
    assert.ok(
      Object.values(config.services).some((s) => mounts(s).some((m) => m.source === name)),
      `volume ${name} is used`,
    );
  }
}

describe('docker-compose.yml', { skip }, () => {
  let config: Compose;
  before(async () => {
    const result = await composeConfig(COMPOSE_FILE);
    assert.ok(result.ok, `docker-compose config failed:\n${result.ok ? '' : result.output}`);
    config = result.config;
  });

  it('passes docker-compose config and has what the issue asks: PostgreSQL, 2 of each service, nginx, a worker, health checks, named volumes', () => {
    assertDeployment(config);
  });

  it('the check above fails on a deployment with one input instance, or one without health checks', () => {
    const oneInput = structuredClone(config);
    delete oneInput.services['input-2'];
    assert.throws(() => assertDeployment(oneInput), /2 instances of input/);
    const unchecked = structuredClone(config);
    delete unchecked.services['output-1']!.healthcheck;
    assert.throws(() => assertDeployment(unchecked), /output-1's health check/);
  });

  it('every file the containers mount exists in the checkout (the nginx and Prometheus configurations)', () => {
    const binds = Object.entries(config.services).flatMap(([name, s]) =>
      mounts(s)
        .filter((m) => m.source.startsWith('/'))
        .map((m) => ({ name, ...m })),
    );
    assert.ok(
      binds.some((m) => m.source === join(PROJECT_ROOT, 'deploy/prometheus/prometheus.yml')),
      'Prometheus reads deploy/prometheus/prometheus.yml',
    );
    for (const m of binds) assert.ok(existsSync(m.source), `${m.source}, mounted at ${m.target} in ${m.name}`);
  });

  it('the upstreams nginx proxies to are the compose instances, on their ports', () => {
    const upstreams = parseUpstreams(readFileSync(UPSTREAMS_FILE, 'utf8'));
    assert.deepEqual([...upstreams.keys()].sort(), ['hopmap_input', 'hopmap_manager', 'hopmap_output']);
    for (const command of ['input', 'output', 'manager']) {
      const want = byCommand(config, command)
        .map(([name]) => `${name}:${SERVICE_PORT[command]}`)
        .sort();
      assert.deepEqual([...upstreams.get(`hopmap_${command}`)!].sort(), want, `upstream hopmap_${command}`);
    }
  });

  it('nginx -t accepts what the nginx container loads: hopmap.conf and the upstreams (compose names standing for local addresses)', async () => {
    const dir = join(scratch, 'nginx');
    mkdirSync(join(dir, 'logs'), { recursive: true });
    const upstreams = readFileSync(UPSTREAMS_FILE, 'utf8').replace(/\b(input|output|manager)-\d+:/g, '127.0.0.1:');
    writeFileSync(join(dir, 'upstreams.conf'), upstreams);
    const conf = (include: string) =>
      `pid ${dir}/nginx.pid; error_log ${dir}/logs/error.log; events {} http { access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir}; include ${join(PROJECT_ROOT, 'deploy/nginx/hopmap.conf')}; ${include} }`;
    const nginxT = async (text: string) => {
      writeFileSync(join(dir, 'nginx.conf'), text);
      return run('nginx', ['-t', '-q', '-p', dir, '-c', join(dir, 'nginx.conf')]).then(
        () => 'ok',
        (err: { stderr?: string }) => `failed: ${err.stderr ?? ''}`,
      );
    };
    assert.equal(await nginxT(conf(`include ${dir}/upstreams.conf;`)), 'ok');
    // Without the upstreams, hopmap.conf's proxy_pass names are unknown hosts: the check can fail.
    assert.match(await nginxT(conf('')), /failed: .*host not found in upstream "hopmap_/s);
  });

  const breakages: Array<[string, (text: string) => string, RegExp]> = [
    ['a misspelled key', (t) => t.replace('  postgres:\n    image:', '  postgres:\n    imag:'), /imag/],
    ['a named volume nobody declared', (t) => t.replace(/^ {2}spool:\n/m, ''), /spool/],
    [
      'a YAML indentation error',
      (t) => t.replace('    command: ["input"]', '  command: ["input"]'),
      /yaml|mapping|indent|command/i,
    ],
  ];
  for (const [what, breakIt, message] of breakages) {
    it(`docker-compose config rejects a copy with ${what}`, async () => {
      const text = readFileSync(COMPOSE_FILE, 'utf8');
      const broken = breakIt(text);
      assert.notEqual(broken, text, 'the breakage applies');
      const file = join(scratch, `broken-${what.replace(/\W+/g, '-')}.yml`);
      writeFileSync(file, broken);
      const result = await composeConfig(file);
      assert.ok(!result.ok, `a compose file with ${what} passed`);
      assert.match(result.output, message);
    });
  }

  it('docker-compose config refuses to run without SERVER_KEY: there is no default secret', async () => {
    const result = await composeConfig(COMPOSE_FILE, {});
    assert.ok(!result.ok);
    assert.match(result.output, /set SERVER_KEY/);
  });
});
