import express from 'express';
import type { Pool } from '../../db/create-pool.js';
import { listen, type Listening } from '../../http/listen.js';
import { acmeChallengeHandler } from './acme-challenge-handler.js';

/**
 * The plain-HTTP listener ACME's HTTP-01 validation needs (port 80 for Let's Encrypt): it answers
 * challenges and sends every other request to the HTTPS port.
 */
export function listenForHttpChallenges(
  pool: Pool,
  opts: { host: string; port: number; httpsPort: number },
): Promise<Listening> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/.well-known/acme-challenge/:token', acmeChallengeHandler(pool));
  app.use((req, res) => {
    const host = (req.headers.host ?? 'localhost').replace(/:\d+$/, '');
    res.redirect(301, `https://${host}${opts.httpsPort === 443 ? '' : `:${opts.httpsPort}`}${req.originalUrl}`);
  });
  return listen(app, { host: opts.host, port: opts.port });
}
