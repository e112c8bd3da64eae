import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { ChildSpec } from '../process/supervise-children.js';
import { BIN_PATH } from '../version.js';

export interface UpWorkerOptions {
  stateDir: string;
  /** Where `up`'s services listen; a wildcard address is reached on loopback. */
  host: string;
  inputPort: number;
  outputPort: number;
  workerId: string;
  pps: number;
  healthPort: number;
  /** The worker key `up` made for this start (up-keys.ts). */
  apiKey: string;
}

/** An address this machine can connect to for services listening on `host`. */
export function localAddress(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * The local worker `hopmap up` runs: `hopmap ping` with a config written into the state dir at each start
 * (so `up`'s flags decide it, and a user can read what the worker was given), spooling there too. The config
 * holds the worker's key, so only its owner may read it.
 */
export function upWorkerChild(opts: UpWorkerOptions): ChildSpec {
  const dir = join(resolve(opts.stateDir), 'worker');
  mkdirSync(dir, { recursive: true });
  const local = localAddress(opts.host);
  const config = join(dir, 'worker.yaml');
  const body = toYaml({
    worker_id: opts.workerId,
    input_file: `http://${local}:${opts.inputPort}`,
    output_file: `http://${local}:${opts.outputPort}`,
    pps: opts.pps,
    health_check_host: opts.host,
    health_check_port: opts.healthPort,
    api_key: opts.apiKey,
    spool_dir: join(dir, 'spool'),
  });
  const header =
    '# Written by hopmap up at each start from its flags (--worker-id, --worker-pps, --worker-health-port);\n# api_key is made at each start and the previous one revoked.\n';
  writeFileSync(config, `${header}${body}`, { mode: 0o600 });
  chmodSync(config, 0o600); // an older config may have been readable by others
  return { name: 'worker', args: [BIN_PATH, 'ping', '--config', config] };
}
