import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { decodedBody, parseSize } from './decoded-body.js';
import { HttpError, badRequest } from './http-error.js';

/**
 * Parses `application/json` bodies into req.body, as express.json did (strict: an object or an array; an
 * empty body is `{}`), but through decodedBody: every decompressed byte counts against the limit, a corrupt
 * encoding is a 400, an unknown one a 415, and a client that goes away stops the work.
 */
export function jsonBody(opts: { limit: string | number }): RequestHandler {
  const limit = parseSize(opts.limit);
  return (req, _res, next) => {
    if (!hasBody(req) || !req.is('application/json')) {
      next();
      return;
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset && charset !== 'utf-8' && charset !== 'utf8') {
      next(new HttpError(415, 'unsupported_encoding', `charset ${charset} is not supported; send UTF-8`));
      return;
    }
    readAll(req, limit)
      .then((text) => {
        req.body = parseStrict(text);
      })
      .then(() => next(), next);
  };
}

const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

async function readAll(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of decodedBody(req, limit)) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function parseStrict(text: string): unknown {
  const first = /\S/.exec(text)?.[0];
  if (first === undefined) return {};
  if (first !== '{' && first !== '[')
    throw badRequest(
      'invalid_json',
      `request body is not valid JSON: a JSON object or array must come first, not ${JSON.stringify(first)}`,
    );
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest('invalid_json', `request body is not valid JSON: ${(err as Error).message}`);
  }
}
