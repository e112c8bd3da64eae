import { Transform, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Request } from 'express';
import { HttpError } from '../../http/http-error.js';

export class BodyTooLarge extends HttpError {
  constructor(limit: number) {
    super(413, 'payload_too_large', `request body exceeds the gateway's limit of ${limit} bytes`);
  }
}

/** The worker went away mid-body: nobody to answer, and no fault of the upstream's. */
export class ClientGone extends HttpError {
  constructor(reason: string) {
    super(400, 'request_aborted', `the client closed the connection before the body was complete: ${reason}`);
  }
}

export interface BodyLimits {
  /** Largest body accepted (default 10 MB, as every service). */
  maxBytes: number;
  /** Bodies up to this size are kept while streaming so a retry can send them again (default 1 MiB). */
  replayBytes: number;
}

/**
 * A request body sent to one upstream and, if that one fails, to a second. The live body is streamed (never
 * held whole); a copy is kept up to `replayBytes`, so the usual worker batch can be replayed, while a larger
 * body that already went out cannot (the worker keeps it spooled and sends it again itself).
 */
export class RequestBody {
  private recorder?: Transform;
  private chunks: Buffer[] | null = [];
  private ended = false;

  private constructor(
    private readonly req: Request | null,
    private buffered: Buffer | null,
    private readonly limits: BodyLimits,
  ) {}

  /**
   * The body of `req`: none for GET; a buffer when a JSON parser mounted before the gateway already read it
   * (its bytes are gone; the parsed value is sent again as JSON); else the live stream.
   */
  static of(req: Request, limits: BodyLimits): RequestBody {
    if (req.method === 'GET' || req.method === 'HEAD') return new RequestBody(null, null, limits);
    const length = Number(req.get('content-length'));
    if (length > limits.maxBytes) throw new BodyTooLarge(limits.maxBytes);
    // body-parser 2 leaves no flag; a stream that has ended was read by someone (it skips such requests too).
    if (req.readableEnded) {
      if (req.body === undefined)
        throw new HttpError(
          500,
          'body_consumed',
          'a middleware before the gateway read the request body without parsing it; mount the gateway before it',
        );
      return new RequestBody(null, Buffer.from(JSON.stringify(req.body), 'utf8'), limits);
    }
    return new RequestBody(req, null, limits);
  }

  get wasParsed(): boolean {
    return this.buffered !== null && this.req === null;
  }

  get empty(): boolean {
    return this.req === null && this.buffered === null;
  }

  get length(): number | undefined {
    return this.buffered?.length;
  }

  /** Sends the body to `dest`: the live stream the first time, the kept copy afterwards. */
  sendTo(dest: Writable): void {
    if (this.buffered || !this.req) return void dest.end(this.buffered ?? undefined);
    if (this.recorder) throw new Error('the live body was already sent; ask replayable() first');
    const recorder = (this.recorder = this.record());
    // pipe() forwards no errors: a body over the limit or a client gone mid-body must fail the upstream request.
    recorder.once('error', (err) => dest.destroy(err));
    this.req.once('error', (err) => recorder.destroy(new ClientGone(err.message)));
    this.req.once('close', () => {
      if (!this.req!.complete) recorder.destroy(new ClientGone('connection closed'));
    });
    this.req.pipe(recorder).pipe(dest);
  }

  /** Whether the body can go to another upstream; reads the rest of a live body (keeping its copy) to know. */
  async replayable(): Promise<boolean> {
    if (!this.req || this.buffered) return true;
    const recorder = this.recorder;
    if (!recorder) return true; // never read: the live stream is intact
    recorder.unpipe();
    // The rest of the body, read into the copy (or to nowhere past its limit); rejects if it never completes.
    if (!this.ended) await finished(recorder.resume());
    if (!this.chunks) return false;
    this.buffered = Buffer.concat(this.chunks);
    this.chunks = null;
    return true;
  }

  /** Counts and copies what passes; fails with 413 past the limit (a chunked body has no length up front). */
  private record(): Transform {
    let total = 0;
    const { maxBytes, replayBytes } = this.limits;
    const recorder = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        total += chunk.length;
        if (total > maxBytes) return done(new BodyTooLarge(maxBytes));
        if (this.chunks && total <= replayBytes) this.chunks.push(chunk);
        else this.chunks = null;
        done(null, chunk);
      },
      flush: (done) => {
        this.ended = true;
        done();
      },
    });
    return recorder;
  }
}
