import type { RequestHandler, Response } from 'express';
import type { Pool } from '../../db/create-pool.js';
import { HttpError } from '../../http/http-error.js';
import type { Logger } from '../../log/create-logger.js';
import { API_KEY_PATTERN, apiKeyPrefix, keyMatches } from './api-key-secret.js';
import { findApiKeyByPrefix, touchApiKey, WORKER_SCOPE } from './api-key-store.js';

/** The key a request was authenticated with, as requireApiKey leaves it on `req.apiKey`. */
export interface ApiKeyIdentity {
  id: string;
  name: string;
  prefix: string;
  scope: string;
}

declare global {
  namespace Express {
    interface Request {
      apiKey?: ApiKeyIdentity;
    }
  }
}

const TOUCH_EVERY_MS = 60_000;

/**
 * Admits a request carrying `Authorization: Bearer hm_…` of a key that exists, is not revoked and has the
 * scope (default 'worker'). The row is read on every request, so a revocation holds at once on every
 * instance; 401 otherwise (403 for a key of another scope).
 */
export function requireApiKey(pool: Pool, opts: { scope?: string; log?: Logger } = {}): RequestHandler {
  const scope = opts.scope ?? WORKER_SCOPE;
  const touched = new Map<string, number>();
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (!header) throw unauthorized(res, 'api_key_required', 'send an API key as Authorization: Bearer hm_… (create one on the manager\'s API keys page)');
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (!token || !API_KEY_PATTERN.test(token)) throw unauthorized(res, 'invalid_api_key', 'the Authorization header is not Bearer and a hopmap API key (hm_ and 43 characters)');
    const row = await findApiKeyByPrefix(pool, apiKeyPrefix(token));
    if (!row || !keyMatches(token, row.keyHash)) throw unauthorized(res, 'invalid_api_key', `API key ${apiKeyPrefix(token)}… is not known`);
    if (row.revokedAt) throw unauthorized(res, 'api_key_revoked', `API key ${row.prefix}… (${row.name}) was revoked at ${row.revokedAt.toISOString()}`);
    if (row.role !== scope) throw new HttpError(403, 'api_key_scope', `API key ${row.prefix}… has role ${row.role}; this endpoint needs ${scope}`);

    const now = Date.now();
    if (now - (touched.get(row.id) ?? 0) >= TOUCH_EVERY_MS) {
      touched.set(row.id, now);
      touchApiKey(pool, row.id).catch((err: Error) => opts.log?.warn({ err: { message: err.message }, key: row.prefix }, 'could not record API key use'));
    }
    req.apiKey = { id: row.id, name: row.name, prefix: row.prefix, scope: row.role };
    next();
  };
}

/** RFC 6750 §3: no error attribute when no credentials came, invalid_token when they were wrong. */
function unauthorized(res: Response, code: string, message: string): HttpError {
  res.setHeader('WWW-Authenticate', code === 'api_key_required' ? 'Bearer realm="hopmap"' : 'Bearer realm="hopmap", error="invalid_token"');
  return new HttpError(401, code, message);
}
