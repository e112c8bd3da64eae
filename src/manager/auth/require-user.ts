import type { Request, RequestHandler } from 'express';
import type { Pool } from '../../db/create-pool.js';
import { HttpError } from '../../http/http-error.js';

export interface SignedInUser {
  id: number;
  name: string;
}

/** The signed-in user of this request, once `requireUser` let it through. */
export function signedInUser(req: Request): SignedInUser | undefined {
  return req.session?.user;
}

/**
 * Lets a request through only with a signed-in session whose user still exists: `page` redirects to /login,
 * `api` answers 401 in the one error shape. The existence check means `hopmap user remove` locks the user
 * out even of a session that a request in flight wrote back after the removal deleted it.
 */
export function requireUser(pool: Pool, kind: 'page' | 'api'): RequestHandler {
  return async (req, res, next) => {
    const user = req.session?.user;
    if (user) {
      const { rowCount } = await pool.query('select 1 from manager.users where id = $1 and name = $2', [
        user.id,
        user.name,
      ]);
      if (rowCount) {
        res.locals.user = user;
        return next();
      }
      await new Promise<void>((resolve, reject) =>
        req.session.regenerate((err?: Error | null) => (err ? reject(err) : resolve())),
      );
    }
    if (kind === 'page') return res.redirect(303, '/login');
    next(
      new HttpError(
        401,
        'unauthenticated',
        'log in first (POST /login); API keys open only the worker gateway (/gateway)',
      ),
    );
  };
}
