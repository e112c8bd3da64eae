import http from 'node:http';
import { httpGet, type HttpAnswer } from '../bench/http-get.js';
import { traceResult, tracePath } from '../bench/ingest-traces.js';

export type SoakServiceName = 'input' | 'output' | 'manager';

export interface SoakLoadOptions {
  inputUrl: string;
  outputUrl: string;
  managerUrl: string;
  /** The manager's session cookie (`hopmap.sid=…`). */
  cookie: string;
  /** A worker key per id of SOAK_WORKERS, by id: input and output take only requests with a key. */
  workerKeys: Map<string, string>;
  /** Requests per second to each service. */
  ratePerSecond: number;
  /** Traceroutes per POST /results (and targets per GET /targets). */
  perRequest: number;
  signal: AbortSignal;
}

export interface SoakLoad {
  requests: Record<SoakServiceName, number>;
  /** Ticks skipped because the previous request to that service had not answered yet: the load is then below the rate. */
  skipped: number;
  errors: number;
  errorSamples: string[];
  stop(): Promise<void>;
}

/**
 * Workers' fixed consumer ids, as a deployment of 4 workers would send: per-consumer state stays bounded.
 * Each has a worker key named after it, so it leases under just that id.
 */
export const SOAK_WORKERS = Array.from({ length: 4 }, (_, i) => `soak-c${i}`);

/**
 * A steady synthetic load on each service at `ratePerSecond`, what workers and an operator do: GET
 * /targets?n= from input, POST /results of fresh traceroutes to output, and the map API (AS graph, a route's
 * path, an interface page) from the manager. At most one request per service is in flight; a tick that finds
 * it still busy is skipped, so a slow machine lowers the load instead of piling it up.
 */
export function startSoakLoad(opts: SoakLoadOptions): SoakLoad {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 3 });
  const load: SoakLoad = {
    requests: { input: 0, output: 0, manager: 0 },
    skipped: 0,
    errors: 0,
    errorSamples: [],
    stop: async () => {},
  };
  let n = 0;
  let trace = 0;
  const bearer = (worker: string) => ({ authorization: `Bearer ${opts.workerKeys.get(worker)}` });
  const requests: Record<SoakServiceName, () => Promise<HttpAnswer>> = {
    input: () => {
      const worker = SOAK_WORKERS[n % SOAK_WORKERS.length]!;
      return httpGet(`${opts.inputUrl}/targets?n=${opts.perRequest}`, {
        agent,
        headers: { ...bearer(worker), 'x-consumer-id': worker },
      });
    },
    output: () =>
      post(
        `${opts.outputUrl}/results`,
        JSON.stringify(Array.from({ length: opts.perRequest }, () => traceResult(trace++))),
        agent,
        bearer(SOAK_WORKERS[n % SOAK_WORKERS.length]!),
      ),
    manager: () => {
      const { worker, target } = tracePath(n);
      const paths = [
        '/api/map/graph?level=as',
        `/api/map/path?worker=${worker}&target=${target}&at=${encodeURIComponent(new Date().toISOString())}`,
        '/api/map/graph?limit=200',
      ];
      return httpGet(`${opts.managerUrl}${paths[n % paths.length]}`, { agent, headers: { cookie: opts.cookie } });
    },
  };
  const busy = new Set<SoakServiceName>();
  const inFlight = new Set<Promise<void>>();
  const tick = () => {
    n++;
    for (const name of Object.keys(requests) as SoakServiceName[]) {
      if (busy.has(name)) {
        load.skipped++;
        continue;
      }
      busy.add(name);
      const p = requests[name]()
        .then((res) => {
          if (res.status !== 200) throw new Error(`${name}: ${res.status} ${res.body.slice(0, 200)}`);
          load.requests[name]++;
        })
        .catch((err: Error) => {
          if (opts.signal.aborted) return;
          load.errors++;
          if (load.errorSamples.length < 5 && !load.errorSamples.includes(err.message))
            load.errorSamples.push(err.message);
        })
        .finally(() => {
          busy.delete(name);
          inFlight.delete(p);
        });
      inFlight.add(p);
    }
  };
  const timer = setInterval(tick, 1000 / opts.ratePerSecond);
  load.stop = async () => {
    clearInterval(timer);
    await Promise.all(inFlight);
    agent.destroy();
  };
  return load;
}

function post(url: string, body: string, agent: http.Agent, headers: Record<string, string>): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`POST ${url}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(body);
  });
}
