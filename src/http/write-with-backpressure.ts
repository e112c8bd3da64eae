import type { Response } from 'express';

/** Writes and waits while the socket's buffer is full, so a slow client slows a streamed walk instead of filling memory. */
export async function writeWithBackpressure(res: Response, chunk: string): Promise<void> {
  if (res.write(chunk)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}
