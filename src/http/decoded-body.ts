import type { IncomingMessage } from 'node:http';
import { PassThrough, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { HttpError, badRequest } from './http-error.js';

const DECODERS: Record<string, () => Transform> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * Compressed bytes read ahead of the decoder. A socket left unread never shows the client's FIN, so a
 * client that gave up would have its already-sent megabytes (hundreds of MB decoded) worked through first;
 * reading ahead lets the close be seen, and the work stop, as soon as the kernel's buffers are drained.
 */
const READ_AHEAD = 4 * 1024 * 1024;

/** The body's Content-Encoding, or a 415 naming what is supported (thrown before a byte is read). */
export function bodyEncoding(req: IncomingMessage): string {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding in DECODERS) return encoding;
  throw new HttpError(
    415,
    'unsupported_encoding',
    `content-encoding ${encoding} is not supported (gzip, deflate, br, identity)`,
  );
}

/**
 * The request body as decoded chunks, every decoded byte counted against `limit` (a 2 MB gzip can hold
 * 2 GiB; the compressed size says nothing). Past the limit: 413; a corrupt encoding: 400 invalid_encoding;
 * the client gone before the end: 400 request_aborted, with the decoder destroyed so no more CPU is spent
 * on it. Whoever stops iterating early (an error, a break) leaves the rest of the request to be drained
 * undecoded, which costs only the compressed bytes.
 */
export async function* decodedBody(req: IncomingMessage, limit: number): AsyncGenerator<Buffer> {
  const encoding = bodyEncoding(req);
  const decoder = encoding === 'identity' ? undefined : DECODERS[encoding]!();
  const readAhead = new PassThrough({ highWaterMark: READ_AHEAD });
  // Errors are seen through the iteration below; a stream erroring with no listener would crash the process.
  readAhead.on('error', () => {});
  decoder?.on('error', () => {});
  const gone = new HttpError(400, 'request_aborted', 'the client closed the connection before the body was complete');
  let clientGone = false;
  const onClose = () => {
    if (req.complete) return;
    clientGone = true;
    readAhead.destroy(gone);
    decoder?.destroy(gone);
  };
  const onError = () => onClose();
  req.on('close', onClose);
  req.on('error', onError);
  req.pipe(readAhead);
  if (decoder) readAhead.pipe(decoder);
  let total = 0;
  try {
    for await (const chunk of (decoder ?? readAhead) as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit)
        throw new HttpError(
          413,
          'payload_too_large',
          `the request body, decompressed, exceeds the limit of ${limit} bytes`,
        );
      yield chunk;
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (clientGone || !decoder) throw gone;
    throw badRequest('invalid_encoding', `the body is not valid ${encoding}: ${(err as Error).message}`);
  } finally {
    req.off('close', onClose);
    req.off('error', onError);
    req.unpipe(readAhead);
    readAhead.destroy();
    decoder?.destroy();
    if (!req.complete && !req.destroyed) req.resume();
  }
}

/** Parses a size such as `10mb`, `512kb` or `1048576` (bytes) the way the config and body-parser write them. */
export function parseSize(size: string | number): number {
  if (typeof size === 'number') return size;
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(size.trim());
  if (!m) throw new Error(`not a size: ${size}`);
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Math.floor(Number(m[1]) * unit);
}
