export type Line =
  /** `number` counts from 1; `text` is the line without its `\n` (and `\r`). */
  | { number: number; text: Buffer; bytes: number }
  /** The line grew past the limit (reported once, as it crosses it); its bytes so far were dropped. */
  | { number: number; tooLong: true; bytes: number }
  /** More bytes of that over-long line, skipped as they streamed by (reported per chunk, never held). */
  | { number: number; skipped: number };

/**
 * Splits a stream of Buffers into lines, holding at most `maxLine` bytes: an over-long line is reported by
 * its number and the rest of it skipped until the next `\n`, so one 2 GiB line costs no more memory than
 * a short one (readline would build it as one string and die with `Invalid string length`). The skipped
 * bytes are reported as they pass, so the caller can stop a body that is nothing but one endless line.
 */
export async function* splitLines(chunks: AsyncIterable<Buffer>, maxLine: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let held = 0;
  let skipping = false;
  let number = 1;
  for await (const chunk of chunks) {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (skipping) {
        if (piece.length > 0) yield { number, skipped: piece.length };
      } else if (held + piece.length > maxLine) {
        skipping = true;
        yield { number, tooLong: true, bytes: held + piece.length };
        parts = [];
        held = 0;
      } else if (piece.length > 0) {
        // A copy while the line is incomplete: a view would keep the whole decoded chunk alive with it.
        parts.push(nl === -1 ? Buffer.from(piece) : piece);
        held += piece.length;
      }
      if (nl === -1) break;
      if (!skipping) yield complete(number, parts, held);
      number++;
      parts = [];
      held = 0;
      skipping = false;
      start = nl + 1;
    }
  }
  if (held > 0) yield complete(number, parts, held);
}

function complete(number: number, parts: Buffer[], held: number): Line {
  const text = parts.length === 1 ? parts[0]! : Buffer.concat(parts, held);
  const end = text.length > 0 && text[text.length - 1] === 0x0d ? text.length - 1 : text.length;
  return { number, text: text.subarray(0, end), bytes: held };
}
