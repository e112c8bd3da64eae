import http from 'node:http';

export interface HttpAnswer {
  status: number;
  body: string;
}

/** A plain GET that reads the whole body; `agent` false means a fresh connection, closed afterwards. */
export function httpGet(
  url: string,
  opts: { agent: http.Agent | false; headers?: Record<string, string>; timeoutMs?: number },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      url,
      { agent: opts.agent, headers: opts.headers, timeout: opts.timeoutMs ?? 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${opts.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
  });
}
