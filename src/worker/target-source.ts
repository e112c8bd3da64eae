import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { parseAddress } from '../net/ip-address.js';
import { keyRefusal } from './sink-http.js';

export interface TargetBatch {
  lease: string | null;
  targets: string[];
  /** When the source has nothing now, how long to wait. */
  retryAfterMs?: number;
}

export interface TargetSource {
  next(n: number): Promise<TargetBatch>;
  describe(): string;
}

export class UpstreamError extends Error {
  override name = 'UpstreamError';
}

/**
 * `http(s)://…` or `unix:///path[:/http/path]`: an input service; anything else: a file of addresses.
 * Several input services, comma-separated, are used one at a time, the next when one fails.
 */
export interface InputSourceOptions {
  workerId: string;
  apiKey?: string | undefined;
  /** Extra CA certificates for https inputs (node's defaults plus these). */
  ca?: Buffer | undefined;
}

export function targetSource(spec: string, opts: InputSourceOptions): TargetSource {
  const specs = splitUpstreams(spec);
  if (specs.length > 1) return new FailoverSource(specs.map((s) => targetSource(s, opts)));
  if (/^https?:\/\//.test(spec) || spec.startsWith('unix://')) return new InputServiceSource(spec, opts);
  return new FileSource(spec.replace(/^file:\/\//, ''));
}

/** `a, b,c` → ['a', 'b', 'c']: the upstream list syntax of `input_file` and `output_file`. */
export function splitUpstreams(spec: string): string[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Sticks to the upstream that last answered and moves on, in order, when it fails: a worker with the
 * addresses of two input instances keeps probing while one is down, without a load balancer.
 */
class FailoverSource implements TargetSource {
  private current = 0;

  constructor(private readonly sources: TargetSource[]) {}

  describe(): string {
    return this.sources.map((s) => s.describe()).join(', ');
  }

  async next(n: number): Promise<TargetBatch> {
    const failures: string[] = [];
    for (let tried = 0; tried < this.sources.length; tried++) {
      const i = (this.current + tried) % this.sources.length;
      try {
        const batch = await this.sources[i]!.next(n);
        this.current = i;
        return batch;
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
    this.current = (this.current + 1) % this.sources.length;
    throw new UpstreamError(`every input failed: ${failures.join('; ')}`);
  }
}

/** Splits `unix:///run/hopmap.sock:/targets` into a socket path and an HTTP path. */
export function parseUnixSpec(spec: string, defaultPath: string): { socketPath: string; path: string } {
  const rest = spec.slice('unix://'.length);
  const colon = rest.indexOf(':');
  return colon === -1
    ? { socketPath: rest, path: defaultPath }
    : { socketPath: rest.slice(0, colon), path: rest.slice(colon + 1) };
}

class InputServiceSource implements TargetSource {
  constructor(
    private readonly spec: string,
    private readonly opts: InputSourceOptions,
  ) {}

  describe(): string {
    return this.spec;
  }

  next(n: number): Promise<TargetBatch> {
    const headers: Record<string, string> = { 'x-consumer-id': this.opts.workerId, accept: 'application/json' };
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    let req: http.ClientRequest;
    const onResponse =
      (resolve: (b: TargetBatch) => void, reject: (e: Error) => void) => (res: http.IncomingMessage) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode !== 200)
            return reject(
              new UpstreamError(
                `${this.spec}: GET targets answered ${res.statusCode}: ${body.slice(0, 200)}${keyRefusal(res.statusCode ?? 0, 'lease targets')}`,
              ),
            );
          try {
            const parsed = JSON.parse(body) as {
              lease: string | null;
              targets: string[];
              retry_after_seconds?: number;
            };
            const targets = parsed.targets.filter((t) => parseAddress(t) !== null);
            resolve({
              lease: parsed.lease,
              targets,
              ...(parsed.retry_after_seconds ? { retryAfterMs: parsed.retry_after_seconds * 1000 } : {}),
            });
          } catch (err) {
            reject(new UpstreamError(`${this.spec}: GET targets answered malformed JSON: ${(err as Error).message}`));
          }
        });
      };
    return new Promise((resolve, reject) => {
      if (this.spec.startsWith('unix://')) {
        const { socketPath, path } = parseUnixSpec(this.spec, '/targets');
        req = http.request({ socketPath, path: `${path}?n=${n}`, headers }, onResponse(resolve, reject));
      } else {
        const url = new URL(this.spec);
        if (!url.pathname.endsWith('/targets')) url.pathname = `${url.pathname.replace(/\/$/, '')}/targets`;
        url.searchParams.set('n', String(n));
        const ca = this.opts.ca ? { ca: [...tls.rootCertificates, this.opts.ca.toString('utf8')] } : {};
        req =
          url.protocol === 'https:'
            ? https.request(url, { headers, ...ca }, onResponse(resolve, reject))
            : http.request(url, { headers }, onResponse(resolve, reject));
      }
      req.setTimeout(30_000, () => req.destroy(new UpstreamError(`${this.spec}: no answer within 30 s`)));
      req.on('error', (err) =>
        reject(err instanceof UpstreamError ? err : new UpstreamError(`${this.spec}: ${err.message}`)),
      );
      req.end();
    });
  }
}

/** A file with one address per line (`#` comments): walked in order, and again from the top each round. */
class FileSource implements TargetSource {
  private queue: string[] = [];

  constructor(private readonly path: string) {}

  describe(): string {
    return this.path;
  }

  async next(n: number): Promise<TargetBatch> {
    if (this.queue.length === 0) {
      const text = await readFile(this.path, 'utf8').catch((err: Error) => {
        throw new UpstreamError(`${this.path}: ${err.message}`);
      });
      this.queue = text
        .split(/\r?\n/)
        .map((l) => l.replace(/#.*/, '').trim())
        .filter((l) => parseAddress(l) !== null);
      if (this.queue.length === 0) return { lease: null, targets: [], retryAfterMs: 60_000 };
    }
    return { lease: null, targets: this.queue.splice(0, n) };
  }
}
