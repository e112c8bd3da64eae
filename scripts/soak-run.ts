import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { signIn } from '../bench/map-manager.js';
import { startServiceInstance, type ServiceInstance } from '../bench/service-instances.js';
import { createKey } from '../src/keys/key-store.js';
import { summarize, type MemorySample, type SeriesSummary } from './soak-analysis.js';
import { SOAK_WORKERS, startSoakLoad, type SoakServiceName } from './soak-load.js';
import { collectGarbage, sampleMemory } from './soak-sampler.js';

export interface SoakOptions {
  /** A migrated database the services may fill. */
  databaseUrl: string;
  /** Sampling stops after this long, or earlier once every service has answered `untilRequests` requests. */
  durationMs: number;
  untilRequests?: number;
  sampleEveryMs: number;
  ratePerSecond: number;
  perRequest: number;
  /** Full GC in each service (SIGUSR2, soak-gc-hook.cjs) before each sample: the heap then is what is still referenced. */
  gcBeforeSample: boolean;
  signal: AbortSignal;
  progress(message: string): void;
}

export interface ServiceSoak {
  name: SoakServiceName;
  pid: number;
  samples: MemorySample[];
  rss: SeriesSummary;
  heap: SeriesSummary;
  requests: number;
  logErrors: string[];
}

export interface SoakReport {
  services: ServiceSoak[];
  seconds: number;
  skipped: number;
  errors: number;
  errorSamples: string[];
}

const GC_HOOK = fileURLToPath(new URL('./soak-gc-hook.cjs', import.meta.url));

/** 8 /16s of public space: 524,288 addresses per consumer pass, so no pass ends within an hour at the soak's rate. */
const TARGET_BLOCKS = Array.from({ length: 8 }, (_, b) => `20.${b}.0.0/16`);

/**
 * input, output and manager as child processes on `databaseUrl`, a steady load on each (soak-load.ts), and
 * their memory sampled every `sampleEveryMs` until `durationMs` has passed; then each series summarized.
 */
export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const dir = await mkdtemp(join(tmpdir(), 'hopmap-soak-'));
  const instances: ServiceInstance[] = [];
  try {
    await writeFile(join(dir, 'soak.txt'), `${TARGET_BLOCKS.join('\n')}\n`);
    const serverKey = randomBytes(32);
    const gcDir = join(dir, 'gc');
    if (opts.gcBeforeSample) await mkdir(gcDir);
    const nodeOptions: Record<string, string> = opts.gcBeforeSample
      ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${GC_HOOK}`.trim(), HOPMAP_SOAK_GC_DIR: gcDir }
      : {};
    const common = { databaseUrl: opts.databaseUrl, signal: opts.signal };
    opts.progress('soak: starting input, output and manager');
    const [input, output, manager] = await Promise.all([
      startServiceInstance('input', ['--targets', dir], { ...common, name: 'soak-input', env: nodeOptions }),
      startServiceInstance('output', ['--health-port', '0'], { ...common, name: 'soak-output', env: nodeOptions }),
      startServiceInstance('manager', ['--tls', 'off', '--api-rate-limit', '100000000'], {
        ...common,
        name: 'soak-manager',
        env: { ...nodeOptions, SERVER_KEY: serverKey.toString('base64') },
      }),
    ]);
    instances.push(input, output, manager);
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 1 });
    // Input and output take only requests with a key: one per synthetic worker, named after it.
    const workerKeys = new Map<string, string>();
    const cookie = await (async () => {
      for (const id of SOAK_WORKERS)
        workerKeys.set(id, (await createKey(pool, { name: id, role: 'worker', createdBy: 'soak' })).key);
      return signIn(manager.url, pool, serverKey);
    })().finally(() => pool.end());

    const named: Array<[SoakServiceName, ServiceInstance]> = [
      ['input', input],
      ['output', output],
      ['manager', manager],
    ];
    const samples = new Map<SoakServiceName, MemorySample[]>(named.map(([n]) => [n, []]));
    const load = startSoakLoad({
      inputUrl: input.url,
      outputUrl: output.url,
      managerUrl: manager.url,
      cookie,
      workerKeys,
      ratePerSecond: opts.ratePerSecond,
      perRequest: opts.perRequest,
      signal: opts.signal,
    });
    const t0 = Date.now();
    try {
      for (let k = 0; ; k++) {
        const collected = opts.gcBeforeSample
          ? await collectGarbage(
              named.map(([name, instance]) => ({ name, pid: instance.pid })),
              gcDir,
              opts.signal,
            )
          : undefined;
        const t = (Date.now() - t0) / 1000;
        for (const [name, instance] of named) {
          const sample = await sampleMemory({ name, pid: instance.pid, url: instance.url }, t);
          samples.get(name)!.push({
            ...sample,
            // The heap right after the collection; /metrics reads it later, with the requests since on top.
            heapMb: collected?.get(name) ?? sample.heapMb,
            requests: load.requests[name],
          });
        }
        if (k % 10 === 0)
          opts.progress(
            `soak: ${t.toFixed(0)} s, ${named.map(([n]) => `${n} ${samples.get(n)!.at(-1)!.rssMb.toFixed(0)} MB`).join(', ')}, ${JSON.stringify(load.requests)}`,
          );
        const next = t0 + (k + 1) * opts.sampleEveryMs;
        if (next > t0 + opts.durationMs) break;
        if (opts.untilRequests !== undefined && Object.values(load.requests).every((r) => r >= opts.untilRequests!))
          break;
        await sleep(Math.max(0, next - Date.now()), undefined, { signal: opts.signal });
      }
    } finally {
      await load.stop();
    }
    return {
      seconds: (Date.now() - t0) / 1000,
      skipped: load.skipped,
      errors: load.errors,
      errorSamples: load.errorSamples,
      services: named.map(([name, instance]) => {
        const s = samples.get(name)!;
        return {
          name,
          pid: instance.pid,
          samples: s,
          rss: summarize(s, 'rssMb'),
          heap: summarize(s, 'heapMb'),
          requests: load.requests[name],
          logErrors: instance.log.errors ? instance.log.samples : [],
        };
      }),
    };
  } finally {
    await Promise.all(instances.map((i) => i.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

/** One line per service and measure: start, end, max, slope and verdict. */
export function formatSoakReport(r: SoakReport): string {
  const mb = (x: number) => `${x.toFixed(1)} MB`;
  const lines = [
    `soak: ${(r.seconds / 60).toFixed(1)} min, ${r.errors} failed requests, ${r.skipped} ticks skipped (service still busy)${r.errorSamples.length ? `: ${r.errorSamples.join(' | ')}` : ''}`,
  ];
  for (const s of r.services) {
    for (const [label, m] of [
      ['RSS ', s.rss],
      ['heap', s.heap],
    ] as const) {
      lines.push(
        `${s.name.padEnd(8)} ${label}  start ${mb(m.start).padStart(9)}  end ${mb(m.end).padStart(9)}  max ${mb(m.max).padStart(9)}  ` +
          `slope ${m.slopeMbPerHour.toFixed(1).padStart(6)} MB/h  thirds ${m.thirdsGrowthMb >= 0 ? '+' : ''}${m.thirdsGrowthMb.toFixed(1)} MB  ${m.verdict}`,
      );
    }
    lines.push(
      `${s.name.padEnd(8)} ${s.requests} requests${s.logErrors.length ? `; logged errors: ${s.logErrors.join(' | ')}` : ''}`,
    );
  }
  return lines.join('\n');
}
