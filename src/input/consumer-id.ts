import type { Request } from 'express';
import { badRequest } from '../http/http-error.js';

const CONSUMER_ID = /^[A-Za-z0-9._:@[\]-]{1,128}$/;
/** What consumer state (export and import) holds per id. */
const MAX_CONSUMER_ID = 128;

/**
 * `X-Consumer-Id`, else `?consumer=`, else the remote address (what the original keyed its cursors on).
 * A worker key leases only under its own name: no id (or the key's name) is `<name>`, any other is
 * `<name>/<id>`. `/` is outside the id alphabet, so no client can send another key's namespaced id.
 * Admin keys and `--auth off` keep the id as sent.
 */
export function consumerIdOf(req: Request): string {
  const header = req.get('x-consumer-id');
  const query = typeof req.query.consumer === 'string' ? req.query.consumer : undefined;
  const key = req.apiKey?.role === 'worker' ? req.apiKey : undefined;
  const sent = header ?? query;
  // A key made before names were restricted may hold other characters; its name is still its own id.
  if (key && (sent === undefined || sent === key.name)) return key.name;
  const id = sent ?? req.ip ?? req.socket.remoteAddress ?? 'unknown';
  if (!CONSUMER_ID.test(id)) {
    throw badRequest(
      'invalid_consumer',
      `consumer id ${JSON.stringify(id.slice(0, 140))} from ${header !== undefined ? 'X-Consumer-Id' : 'consumer'}: use 1-128 letters, digits or . _ : @ - [ ]`,
    );
  }
  if (!key) return id;
  const namespaced = `${key.name}/${id}`;
  if (namespaced.length > MAX_CONSUMER_ID) {
    throw badRequest(
      'invalid_consumer',
      `consumer id ${JSON.stringify(id)} is too long for key ${key.name}: a worker key leases as "${key.name}/<id>", at most ${MAX_CONSUMER_ID} characters in all (use at most ${MAX_CONSUMER_ID - key.name.length - 1})`,
    );
  }
  return namespaced;
}
