import http from 'node:http';
import type { HttpAnswer } from './http-get.js';
import { BATCH, type TraceBatches } from './ingest-batches.js';
import { measureLoop, type LoopResult } from './measure-loop.js';

export interface IngestLoadOptions {
  /** Base URLs of the output instances; each sender takes them in turn, one request each. */
  urls: string[];
  senders: number;
  batches: TraceBatches;
  /** A worker key's Authorization header (bench-keys.ts). */
  headers: Record<string, string>;
  warmupMs: number;
  durationMs: number;
  signal: AbortSignal;
}

/**
 * The load generator: `senders` workers, each looping POST /results with a JSON array of 500 traces as fast
 * as answers come, over keep-alive connections. A request counts only when every result in it was accepted.
 */
export async function runIngestLoad(opts: IngestLoadOptions): Promise<LoopResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.senders });
  const turn = new Array<number>(opts.senders).fill(0);
  try {
    return await measureLoop(
      { workers: opts.senders, warmupMs: opts.warmupMs, durationMs: opts.durationMs, signal: opts.signal },
      async (w) => {
        const base = opts.urls[(w + turn[w]!++) % opts.urls.length]!;
        const res = await httpPostJson(`${base}/results`, opts.batches.nextJson(), agent, opts.headers);
        if (res.status !== 200) throw new Error(`POST /results: ${res.status} ${res.body.slice(0, 300)}`);
        const { accepted } = JSON.parse(res.body) as { accepted?: number };
        if (accepted !== BATCH)
          throw new Error(`POST /results: ${String(accepted)} of ${BATCH} accepted: ${res.body.slice(0, 300)}`);
        return accepted;
      },
    );
  } finally {
    agent.destroy();
  }
}

function httpPostJson(
  url: string,
  body: string,
  agent: http.Agent,
  headers: Record<string, string>,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 60_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`POST ${url}: no answer within 60 s`)));
    req.on('error', reject);
    req.end(body);
  });
}
