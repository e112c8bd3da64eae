import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertDeclared } from './needs.js';
import { spawnNode, type Spawned } from './spawn-process.js';

export interface RunningNginx {
  dir: string;
  /** The error log so far: where nginx says which upstream failed and which it took out. */
  errorLog(): string;
  /** One line per request: `<status> <method> <uri> <upstream addresses, one per try> <their statuses>`. */
  accessLog(): string[];
  stop(): Promise<void>;
}

/** nginx processes still running, stopped if the test runner stops this file (its timeout). */
const live = new Set<Spawned>();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    for (const p of live) p.child.kill('SIGTERM');
    process.kill(process.pid, signal);
  });
}

/**
 * Starts Debian's nginx in the foreground as a child process, with a generated main configuration in a temp
 * dir around `http` (http-context text: upstreams and server blocks), pid, logs and temp files in that dir.
 * Resolves once every port in `ports` accepts connections.
 */
export async function startNginx(opts: { http: string; ports: number[] }): Promise<RunningNginx> {
  assertDeclared('nginx', 'startNginx');
  const dir = mkdtempSync(join(tmpdir(), 'hopmap-nginx-'));
  // As root, nginx's workers run as nobody: they must reach the temp dir for buffered request bodies.
  chmodSync(dir, 0o755);
  const temp = join(dir, 'temp');
  mkdirSync(temp, { mode: 0o777 });
  chmodSync(temp, 0o777);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'events { worker_connections 1024; }',
      'http {',
      `  log_format hopmap '$status $request_method $uri $upstream_addr $upstream_status';`,
      `  access_log ${dir}/access.log hopmap;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${temp}/${k};`),
      opts.http,
      '}',
      '',
    ].join('\n'),
  );
  const proc: Spawned = spawnNode([], {}, [
    'nginx',
    '-p',
    dir,
    '-e',
    join(dir, 'error.log'),
    '-c',
    conf,
    '-g',
    'daemon off;',
  ]);
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));
  const read = (file: string) => {
    try {
      return readFileSync(join(dir, file), 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
    await proc.exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of opts.ports) await waitForPort(port, proc);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    dir,
    errorLog: () => read('error.log'),
    accessLog: () => read('access.log').split('\n').filter(Boolean),
    stop,
  };
}

async function waitForPort(port: number, proc: Spawned): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (proc.child.exitCode !== null) throw new Error(`nginx exited with ${proc.child.exitCode}:\n${proc.output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => resolve(true));
      s.once('error', () => resolve(false));
      s.once('close', () => s.destroy());
    }).then((ok) => ok);
    if (open) return;
    await sleep(50);
  }
  throw new Error(`nginx did not listen on ${port}:\n${proc.output()}`);
}

/** `hopmap.conf` with each `listen <port>;` replaced by loopback and the port `ports` maps it to. */
export function listenOn(conf: string, ports: Record<number, number>): string {
  return conf.replace(/^(\s*)listen\s+(\d+)\s*;/gm, (line, indent: string, port: string) => {
    const to = ports[Number(port)];
    if (to === undefined) throw new Error(`no port given for '${line.trim()}'`);
    return `${indent}listen 127.0.0.1:${to};`;
  });
}

/**
 * An upstreams file with the servers of each upstream replaced by loopback ports, keeping every other
 * parameter (max_fails, fail_timeout, keepalive) of the first server line and of the block.
 */
export function upstreamsOn(example: string, ports: Record<string, number[]>): string {
  return example.replace(/upstream\s+(\S+)\s*\{([^}]*)\}/g, (_block, name: string, body: string) => {
    const want = ports[name];
    if (!want) throw new Error(`no ports given for upstream ${name}`);
    const server = /^\s*server\s+\S+([^;]*);/m.exec(body);
    if (!server) throw new Error(`upstream ${name} has no server line`);
    const rest = body.replace(/^\s*server\s+[^\n]*\n/gm, '');
    return `upstream ${name} {\n${want.map((p) => `    server 127.0.0.1:${p}${server[1]};\n`).join('')}${rest}}`;
  });
}
