import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Request } from 'express';
import { isValidKeyName } from '../../keys/key-name.js';

/**
 * RFC 9110 §7.6.1 hop-by-hop fields, plus what only concerns the client and the manager. Authorization goes
 * on: the upstream checks the same key, so its role and consumer namespacing hold behind the gateway too.
 */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'cookie',
  'x-hopmap-gateway-key',
  'x-hopmap-gateway-key-name',
]);

function strip(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !NOT_FORWARDED.has(name) && !named.includes(name)) out[name] = value;
  }
  return out;
}

/**
 * What the upstream receives: the worker's own headers (its key, content type and encoding, length, consumer
 * and worker ids) unchanged, without the manager's cookies, plus who sent it: the forwarded-for chain and the
 * gateway key's id and name, so the output can tell which key delivered a batch.
 */
export function upstreamHeaders(
  req: Request,
  key: { id: string; name: string },
  parsedBodyLength?: number,
): OutgoingHttpHeaders {
  const out = strip(req.headers);
  const client = req.socket.remoteAddress ?? '';
  out['x-forwarded-for'] = req.headers['x-forwarded-for']
    ? `${String(req.headers['x-forwarded-for'])}, ${client}`
    : client;
  out['x-forwarded-proto'] = req.protocol;
  if (req.headers.host) out['x-forwarded-host'] = req.headers.host;
  // Without an id an input with auth off would key the cursor on the manager's address, shared by every
  // worker. The key's name is what an input with keys uses anyway; a name from before names were restricted
  // may not fit in a header, so such a key's worker is told apart by its address.
  if (!out['x-consumer-id'] && req.query.consumer === undefined && req.method === 'GET')
    out['x-consumer-id'] = isValidKeyName(key.name) ? key.name : (req.ip ?? client);
  out['x-hopmap-gateway-key'] = key.id;
  out['x-hopmap-gateway-key-name'] = encodeURIComponent(key.name);
  if (parsedBodyLength !== undefined) {
    // A JSON parser ahead of the gateway decoded the body; what goes on is plain JSON of this length.
    delete out['content-encoding'];
    out['content-type'] = 'application/json';
    out['content-length'] = String(parsedBodyLength);
  }
  return out;
}

/** The upstream's answer headers for the worker, minus hop-by-hop fields. */
export function downstreamHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out = strip(headers);
  delete out['set-cookie'];
  return out;
}
