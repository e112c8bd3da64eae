import type { Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/** A PEM certificate chain and its private key. */
export interface TlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
}

export interface Listening {
  server: Server | HttpsServer;
  port: number;
  url: string;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts what is left. */
  close(graceMs: number): Promise<void>;
  /** Serves another certificate from the next handshake on (renewal without a restart); only over TLS. */
  setSecureContext?: (tls: TlsOptions) => void;
}

/** Listens over HTTP, or HTTPS when `tls` is given. */
export function listen(
  app: Express,
  opts: { port: number; host: string; tls?: TlsOptions | undefined },
): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const tls = opts.tls;
    const server: Server | HttpsServer = tls
      ? createHttpsServer({ key: tls.key, cert: tls.cert }, app).listen(opts.port, opts.host)
      : app.listen(opts.port, opts.host);
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
      resolve({
        server,
        port,
        url: `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
        close: (graceMs) => closeServer(server, graceMs),
        ...(tls
          ? {
              setSecureContext: (next: TlsOptions) =>
                (server as HttpsServer).setSecureContext({ key: next.key, cert: next.cert }),
            }
          : {}),
      });
    });
  });
}

function closeServer(server: Server | HttpsServer, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    // Idle keep-alive sockets would otherwise hold close() open until they time out.
    server.closeIdleConnections();
  });
}
