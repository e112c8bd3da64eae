import type { Request, RequestHandler, Response } from 'express';
import type { Pool } from '../db/create-pool.js';
import { HttpError } from '../http/http-error.js';
import type { Logger } from '../log/create-logger.js';
import { API_KEY_PATTERN, apiKeyPrefix, keyMatches } from './key-secret.js';
import { findKeyByPrefix, touchKey, type Role } from './key-store.js';

/** The key a request was authenticated with, as requireRole leaves it on `req.apiKey`. */
export interface ApiKeyIdentity {
  id: string;
  name: string;
  prefix: string;
  role: Role;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express request augmentation is declared this way
  namespace Express {
    interface Request {
      apiKey?: ApiKeyIdentity;
    }
  }
}

/** `keys`: every non-monitoring request needs a key of the right role (the default); `off`: a private network. */
export const AUTH_MODES = ['keys', 'off'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export type KeyFailureReason = 'missing_key' | 'malformed_key' | 'unknown_key' | 'revoked_key' | 'wrong_role';

const TOUCH_EVERY_MS = 60_000;

/**
 * Admits a request carrying `Authorization: Bearer hm_…` of a key that exists, is not revoked and has one of
 * `roles` (admin is always admitted). The row is read on every request, so a revocation holds at once on every
 * instance. 401 without a usable key, 403 for a key whose role does not allow the request; each refusal is an
 * AUTH_FAILURE line for fail2ban.
 */
export function requireRole(pool: Pool, roles: readonly Role[], opts: { log: Logger }): RequestHandler {
  const log = opts.log.child({ module: 'keys' });
  const touched = new Map<string, number>();
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (!header)
      throw refuse(
        req,
        res,
        log,
        'missing_key',
        '-',
        unauthorized(
          'api_key_required',
          'send a key as Authorization: Bearer hm_… (hopmap keys add NAME --role ROLE makes one)',
        ),
      );
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (!token || !API_KEY_PATTERN.test(token))
      throw refuse(
        req,
        res,
        log,
        'malformed_key',
        '-',
        unauthorized(
          'invalid_api_key',
          'the Authorization header is not Bearer and a hopmap key (hm_ and 43 characters)',
        ),
      );
    const prefix = apiKeyPrefix(token);
    const row = await findKeyByPrefix(pool, prefix);
    if (!row || !keyMatches(token, row.keyHash))
      throw refuse(
        req,
        res,
        log,
        'unknown_key',
        prefix,
        unauthorized('invalid_api_key', `key ${prefix}… is not known`),
      );
    if (row.revokedAt)
      throw refuse(
        req,
        res,
        log,
        'revoked_key',
        prefix,
        unauthorized(
          'api_key_revoked',
          `key ${row.prefix}… (${row.name}) was revoked at ${row.revokedAt.toISOString()}`,
        ),
      );
    const role = row.role as Role;
    if (role !== 'admin' && !roles.includes(role)) {
      throw refuse(
        req,
        res,
        log,
        'wrong_role',
        prefix,
        new HttpError(
          403,
          'forbidden_role',
          `key ${row.prefix}… (${row.name}) has role ${role}; ${req.method} ${req.path} needs ${[...roles, 'admin'].filter((r, i, all) => all.indexOf(r) === i).join(' or ')}`,
        ),
      );
    }
    const now = Date.now();
    if (now - (touched.get(row.id) ?? 0) >= TOUCH_EVERY_MS) {
      touched.set(row.id, now);
      touchKey(pool, row.id).catch((err: Error) =>
        log.warn({ err: { message: err.message }, key: row.prefix }, 'could not record key use'),
      );
    }
    req.apiKey = { id: row.id, name: row.name, prefix: row.prefix, role };
    next();
  };
}

/**
 * What a service mounts in front of a route: `gate('worker')`. With auth `off` every request passes (and
 * `req.apiKey` stays unset); the service logs a warning at start.
 */
export function roleGate(pool: Pool, mode: AuthMode, log: Logger): (...roles: Role[]) => RequestHandler {
  const cache = new Map<string, RequestHandler>();
  return (...roles) => {
    if (mode === 'off') return (_req, _res, next) => next();
    const id = roles.join(',');
    let handler = cache.get(id);
    if (!handler) cache.set(id, (handler = requireRole(pool, roles, { log })));
    return handler;
  };
}

/** RFC 6750 §3: no error attribute when no credentials came, invalid_token when they were wrong. */
function unauthorized(code: string, message: string): HttpError {
  return new HttpError(401, code, message);
}

function refuse(
  req: Request,
  res: Response,
  log: Logger,
  reason: KeyFailureReason,
  prefix: string,
  error: HttpError,
): HttpError {
  if (error.status === 401)
    res.setHeader(
      'WWW-Authenticate',
      reason === 'missing_key' ? 'Bearer realm="hopmap"' : 'Bearer realm="hopmap", error="invalid_token"',
    );
  // The same fixed form as the manager's login failures, so one fail2ban filter reads both; never the key itself.
  const raw = req.ip ?? req.socket.remoteAddress ?? 'unknown';
  const ip = (raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice(7) : raw).replace(/[^0-9A-Fa-f:.]/g, '?');
  const user = `key:${prefix}`;
  log.warn(
    { event: 'auth_failure', ip, user, reason, method: req.method, path: req.path },
    `AUTH_FAILURE ip=${ip} user=${user} reason=${reason}`,
  );
  return error;
}
