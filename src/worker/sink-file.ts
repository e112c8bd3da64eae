import { appendLines } from './append-lines.js';
import type { ResultSink, SendOutcome } from './result-sinks.js';

/** Appends each batch to `path` as NDJSON, durably (appendLines). */
export function createFileSink(path: string): ResultSink {
  return {
    describe: () => `file ${path}`,
    close: async () => {},
    async send(batch): Promise<SendOutcome> {
      try {
        await appendLines(path, batch);
        return { ok: true };
      } catch (err) {
        return { ok: false, reason: `${path}: ${(err as Error).message}` };
      }
    },
  };
}
