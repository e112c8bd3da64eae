import http from 'node:http';
import { httpGet } from './http-get.js';
import { measureLoop, type LoopResult } from './measure-loop.js';

export interface TargetLoadOptions {
  /** Base URLs of the input instances; each consumer takes them in turn, one request each. */
  urls: string[];
  consumers: number;
  /** `n` of each GET /targets. */
  batch: number;
  /** Consumer ids are `<prefix>-c<i>-p<k>`: k moves on when a consumer's pass ends, so the load never idles. */
  consumerPrefix: string;
  /** A worker key's Authorization header (bench-keys.ts); the input leases under `<key name>/<consumer id>`. */
  headers: Record<string, string>;
  warmupMs: number;
  durationMs: number;
  signal: AbortSignal;
}

export interface TargetLoadResult extends LoopResult {
  /** Answers with no targets (a consumer's pass was over); that consumer continues under a new id. */
  passesEnded: number;
}

/** The load generator: `consumers` workers, each looping GET /targets?n= as fast as answers come, over keep-alive connections. */
export async function runTargetLoad(opts: TargetLoadOptions): Promise<TargetLoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.consumers });
  const pass = new Array<number>(opts.consumers).fill(0);
  const turn = new Array<number>(opts.consumers).fill(0);
  let passesEnded = 0;
  try {
    const result = await measureLoop(
      { workers: opts.consumers, warmupMs: opts.warmupMs, durationMs: opts.durationMs, signal: opts.signal },
      async (w) => {
        const base = opts.urls[(w + turn[w]!++) % opts.urls.length]!;
        const res = await httpGet(`${base}/targets?n=${opts.batch}`, {
          agent,
          headers: { ...opts.headers, 'x-consumer-id': `${opts.consumerPrefix}-c${w}-p${pass[w]}` },
        });
        if (res.status !== 200) throw new Error(`GET /targets: ${res.status} ${res.body.slice(0, 300)}`);
        const { targets } = JSON.parse(res.body) as { targets?: unknown };
        if (!Array.isArray(targets)) throw new Error(`GET /targets: no targets array in ${res.body.slice(0, 300)}`);
        if (targets.length === 0) {
          pass[w]!++;
          passesEnded++;
        }
        return targets.length;
      },
    );
    return { ...result, passesEnded };
  } finally {
    agent.destroy();
  }
}
