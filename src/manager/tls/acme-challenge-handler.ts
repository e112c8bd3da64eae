import type { RequestHandler } from 'express';
import type { Queryable } from './certificate-store.js';

/** ACME tokens are base64url (RFC 8555 8.3); anything else cannot be one of ours. */
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * `GET /.well-known/acme-challenge/:token` for HTTP-01: answers the key authorization stored in
 * acme_challenges, so whichever instance the CA reaches can answer for the one that ordered.
 */
export function acmeChallengeHandler(db: Queryable): RequestHandler<{ token: string }> {
  return async (req, res, next) => {
    const token = req.params.token;
    if (!TOKEN.test(token)) {
      res.status(404).type('text/plain').send('not found');
      return;
    }
    try {
      const { rows } = await db.query<{ key_authorization: string }>(
        'select key_authorization from manager.acme_challenges where token = $1',
        [token],
      );
      if (!rows[0]) {
        res.status(404).type('text/plain').send('not found');
        return;
      }
      res.status(200).type('text/plain').send(rows[0].key_authorization);
    } catch (err) {
      next(err);
    }
  };
}

export async function saveAcmeChallenge(db: Queryable, token: string, keyAuthorization: string): Promise<void> {
  await db.query(
    `insert into manager.acme_challenges (token, key_authorization) values ($1, $2)
     on conflict (token) do update set key_authorization = excluded.key_authorization, created_at = now()`,
    [token, keyAuthorization],
  );
}

/** Removes the answer once validated, and any left over by an order that crashed midway (a day is far past any ACME timeout). */
export async function removeAcmeChallenge(db: Queryable, token: string): Promise<void> {
  await db.query(`delete from manager.acme_challenges where token = $1 or created_at < now() - interval '1 day'`, [
    token,
  ]);
}
