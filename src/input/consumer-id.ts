import type { Request } from 'express';
import { badRequest } from '../http/http-error.js';

const CONSUMER_ID = /^[A-Za-z0-9._:@[\]-]{1,128}$/;

/** `X-Consumer-Id`, else `?consumer=`, else the remote address (what the original keyed its cursors on). */
export function consumerIdOf(req: Request): string {
  const header = req.get('x-consumer-id');
  const query = typeof req.query.consumer === 'string' ? req.query.consumer : undefined;
  const id = header ?? query ?? req.ip ?? req.socket.remoteAddress ?? 'unknown';
  if (!CONSUMER_ID.test(id)) {
    throw badRequest('invalid_consumer', `consumer id ${JSON.stringify(id.slice(0, 140))} from ${header !== undefined ? 'X-Consumer-Id' : 'consumer'}: use 1-128 letters, digits or . _ : @ - [ ]`);
  }
  return id;
}
