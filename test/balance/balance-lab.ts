import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/http/free-port.js';
import { BIN_PATH, PROJECT_ROOT } from '../../src/version.js';
import { pollUntil, request } from '../support/http-client.js';
import { listenOn, startNginx, upstreamsOn, type RunningNginx } from '../support/nginx.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { until } from '../support/until.js';

export type Kind = 'input' | 'output' | 'manager';
/** Where deploy/nginx/hopmap.conf listens for each service. */
const NGINX_PORT: Record<Kind, number> = { input: 8080, output: 8081, manager: 8443 };
/** How long /ready answers 503 after SIGTERM before the listener closes. */
export const DRAIN_DELAY_MS = 1_000;

/** Children still running, killed if the test runner stops this file (its timeout), so none outlives it. */
const live = new Set<Spawned>();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    for (const p of live) p.child.kill('SIGKILL');
    process.kill(process.pid, signal);
  });
}

/** One `hopmap <kind>` child process on a fixed loopback port, which it gets again when restarted. */
export class ServiceInstance {
  proc: Spawned | undefined;
  readonly exits: Array<{ code: number | null; signal: NodeJS.Signals | null }> = [];

  constructor(
    readonly kind: Kind,
    readonly name: string,
    readonly port: number,
    private readonly args: string[],
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  alive(): boolean {
    return this.proc !== undefined && this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  async start(): Promise<void> {
    const proc = spawnNode(
      [
        BIN_PATH,
        this.kind,
        '--host',
        '127.0.0.1',
        '--port',
        String(this.port),
        '--name',
        this.name,
        '--no-migrate',
        '--drain-delay-ms',
        String(DRAIN_DELAY_MS),
        '--shutdown-grace-ms',
        '10000',
        ...this.args,
      ],
      { LOG_LEVEL: 'warn', ...this.env },
    );
    this.proc = proc;
    live.add(proc);
    void proc.exited.then(() => live.delete(proc));
    const ready = await pollUntil(`${this.url}/ready`, (r) => r.status === 200, 240_000).catch((err: Error) => ({
      status: 0,
      text: err.message,
    }));
    assert.equal(ready.status, 200, `${this.name} is ready:\n${ready.text}\n${proc.output()}`);
  }

  /** Sends `signal` and waits for the process to end. */
  async stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const proc = this.proc!;
    proc.child.kill(signal);
    const exit = await proc.exited;
    this.exits.push(exit);
    return exit;
  }

  /** Requests this process has answered on `route` (its own /metrics, which start from zero at each start). */
  async served(route: string): Promise<number> {
    const res = await request(`${this.url}/metrics`);
    assert.equal(res.status, 200, `${this.name} /metrics`);
    let total = 0;
    for (const line of res.text.split('\n')) {
      if (line.startsWith('hopmap_http_request_duration_seconds_count{') && line.includes(`route="${route}"`))
        total += Number(line.split(' ').at(-1));
    }
    return total;
  }
}

export interface BalancedService {
  instances: ServiceInstance[];
  /** nginx's address for this service. */
  url: string;
  nginx: RunningNginx;
  stop(): Promise<void>;
}

/**
 * Two instances of one service on one database behind nginx, configured by deploy/nginx/hopmap.conf and by
 * deploy/nginx/upstreams.example.conf with its addresses replaced by the instances' real ports. The other
 * upstreams point at a closed port: only `kind` is served. `firstArgs` go to the first instance only (a
 * one-time import at start).
 */
export async function startBalanced(
  kind: Kind,
  opts: { env: Record<string, string>; args?: string[]; firstArgs?: string[]; count?: number },
): Promise<BalancedService> {
  const instances: ServiceInstance[] = [];
  for (let i = 1; i <= (opts.count ?? 2); i++) {
    const args = [...(opts.args ?? []), ...(i === 1 ? (opts.firstArgs ?? []) : [])];
    instances.push(new ServiceInstance(kind, `${kind}-${i}`, await freePort(), args, opts.env));
  }
  let nginx: RunningNginx | undefined;
  const stop = async () => {
    for (const s of instances) if (s.alive()) s.proc!.child.kill('SIGKILL');
    await Promise.all(instances.flatMap((s) => (s.proc ? [s.proc.exited] : [])));
    await nginx?.stop();
  };
  try {
    await Promise.all(instances.map((s) => s.start()));
    const listen: Record<number, number> = {};
    for (const k of Object.keys(NGINX_PORT) as Kind[]) listen[NGINX_PORT[k]] = await freePort();
    const unused = await freePort();
    const upstreamPorts = Object.fromEntries(
      (Object.keys(NGINX_PORT) as Kind[]).map((k) => [
        `hopmap_${k}`,
        k === kind ? instances.map((s) => s.port) : [unused],
      ]),
    );
    const deploy = join(PROJECT_ROOT, 'deploy/nginx');
    const http = [
      upstreamsOn(readFileSync(join(deploy, 'upstreams.example.conf'), 'utf8'), upstreamPorts),
      listenOn(readFileSync(join(deploy, 'hopmap.conf'), 'utf8'), listen),
    ].join('\n');
    nginx = await startNginx({ http, ports: Object.values(listen) });
    return { instances, url: `http://127.0.0.1:${listen[NGINX_PORT[kind]]}`, nginx, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A client loop's tally: operations that succeeded (perhaps after retries) and the failed tries among them. */
export interface Tally {
  ok: number;
  failedTries: number;
  /** The failure messages the clients saw, each fixed by a later try of the same operation. */
  failures: string[];
  /** Most tries one operation needed. */
  maxTries: number;
}

export const newTally = (): Tally => ({ ok: 0, failedTries: 0, failures: [], maxTries: 0 });

/**
 * Runs `op` until it succeeds, as the workers' own retry does (short pause between tries), and counts.
 * Gives up, failing the test, after `maxTries`: an error that retries do not fix.
 */
export async function withRetries<T>(tally: Tally, what: string, op: () => Promise<T>, maxTries = 20): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      const value = await op();
      tally.ok++;
      tally.maxTries = Math.max(tally.maxTries, tries);
      return value;
    } catch (err) {
      tally.failedTries++;
      tally.failures.push(`${what}: ${(err as Error).message}`);
      if (tries >= maxTries) throw new Error(`${what} failed ${tries} times in a row; last: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100 * tries));
    }
  }
}

/**
 * Takes `victim` down with `signal` while the clients run, checks the others carry on (`progress` grows by
 * `carryOn` while it is down), starts it again on its port, and waits until nginx sends it `route` traffic.
 * Returns what it saw, for the test's diagnostics.
 */
export async function cycle(
  service: BalancedService,
  victim: ServiceInstance,
  signal: 'SIGKILL' | 'SIGTERM',
  route: string,
  progress: () => number,
  carryOn = 30,
): Promise<{
  exit: { code: number | null; signal: NodeJS.Signals | null };
  servedBefore: number;
  servedAfterRestart: number;
}> {
  const servedBefore = await victim.served(route);
  assert.ok(servedBefore > 0, `${victim.name} took ${route} traffic before it was stopped`);
  const exit = await victim.stop(signal);
  if (signal === 'SIGTERM')
    assert.deepEqual(exit, { code: 0, signal: null }, `${victim.name} shut down cleanly:\n${victim.proc!.output()}`);
  const whileDown = progress();
  await until(
    `the clients to carry on without ${victim.name}`,
    () => (progress() >= whileDown + carryOn ? true : undefined),
    { timeoutMs: 60_000 },
  );
  await victim.start();
  const servedAfterRestart = await until(
    `nginx to send ${route} to ${victim.name} again`,
    async () => {
      const n = await victim.served(route);
      return n > 0 ? n : undefined;
    },
    { timeoutMs: 60_000, everyMs: 200 },
  );
  return { exit, servedBefore, servedAfterRestart };
}
