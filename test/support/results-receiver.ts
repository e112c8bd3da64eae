import { rmSync } from 'node:fs';
import http from 'node:http';

/**
 * Stands in for the output service on a unix socket (reachable from inside a lab namespace, unlike the
 * host's loopback): answers POST /results with 200 and records every result id it was sent, repeats included.
 */
export class ResultsReceiver {
  readonly ids: string[] = [];
  readonly results: Array<Record<string, unknown>> = [];
  private server?: http.Server;

  constructor(readonly socketPath: string) {}

  get url(): string {
    return `unix://${this.socketPath}`;
  }

  start(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    this.server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        const batch = JSON.parse(body) as Array<Record<string, unknown>>;
        for (const r of batch) {
          this.ids.push(String(r.id));
          this.results.push(r);
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ accepted: batch.length, duplicate: 0, rejected: 0 }));
      });
    });
    return new Promise((resolve) => this.server!.listen(this.socketPath, resolve));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      this.server = undefined;
    });
  }
}
