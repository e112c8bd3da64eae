import http from 'node:http';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: Buffer;
  json<T = any>(): T;
}

/**
 * A request on a connection of its own that closes afterwards, so tests leave no keep-alive sockets
 * behind (global fetch keeps them in a pool that outlives the test).
 */
export function request(
  url: string,
  opts: { method?: string; body?: string | Buffer; headers?: Record<string, string>; agent?: http.Agent } = {},
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body, json: () => JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  request(url, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });

/**
 * Requests `url` until `want` holds for the answer or `timeoutMs` passes; returns the last answer. A refused
 * connection (the server is not listening yet) counts as "not yet"; it is thrown only at the deadline.
 */
export async function pollUntil(
  url: string,
  want: (res: HttpResponse) => boolean,
  timeoutMs = 30_000,
  headers?: Record<string, string>,
): Promise<HttpResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await request(url, { headers });
      if (want(res) || Date.now() > deadline) return res;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
