import { open, type FileHandle } from 'node:fs/promises';
import type { ResultSink, SendOutcome } from './result-sinks.js';

/**
 * Appends each batch to `path` as NDJSON and fsyncs it. The file is opened per batch, so an operator may
 * move it away (log rotation) at any time. A failed write is cut back, so the file never holds half a line.
 */
export function createFileSink(path: string): ResultSink {
  return {
    describe: () => `file ${path}`,
    close: async () => {},
    async send(batch): Promise<SendOutcome> {
      const data = batch.map((item) => `${JSON.stringify(item)}\n`).join('');
      let fh: FileHandle | undefined;
      try {
        fh = await open(path, 'a');
        const { size } = await fh.stat();
        try {
          await fh.writeFile(data);
          await fh.datasync();
        } catch (err) {
          await fh.truncate(size).catch(() => {});
          throw err;
        }
        return { ok: true };
      } catch (err) {
        return { ok: false, reason: `${path}: ${(err as Error).message}` };
      } finally {
        await fh?.close();
      }
    },
  };
}
