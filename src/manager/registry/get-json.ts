import http from 'node:http';
import https from 'node:https';

export interface Answer {
  status: number;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: unknown;
}

/** Thrown when no HTTP answer came at all: refused, reset, DNS, TLS, or silence past the timeout. */
export class NoAnswer extends Error {
  override name = 'NoAnswer';
}

/** /service-info and /health bodies are small; more than this is not a hopmap service talking. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * One GET on a connection of its own (no keep-alive pool outliving the call), bounded in time and size.
 * Resolves with any HTTP answer; rejects with NoAnswer when there is none.
 */
export function getJson(url: string, opts: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const client = u.protocol === 'https:' ? https : http;
    const req = client.request(
      u,
      { method: 'GET', agent: false, headers: { accept: 'application/json' }, signal: opts.signal },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES)
            return req.destroy(new NoAnswer(`the answer is larger than ${MAX_BODY_BYTES} bytes`));
          chunks.push(c);
        });
        res.on('error', (err) => reject(new NoAnswer(err.message)));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, text, json: parseJson(text) });
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new NoAnswer(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err instanceof NoAnswer ? err : new NoAnswer(err.code ? `${err.code}: ${err.message}` : err.message));
    });
    req.end();
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
