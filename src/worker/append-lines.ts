import { open } from 'node:fs/promises';

/**
 * Appends `items` to `path` as NDJSON and fsyncs. The file is opened per call, so an operator may move it
 * away (log rotation) at any time; a failed write is cut back, so the file never holds half a line.
 */
export async function appendLines(path: string, items: readonly unknown[]): Promise<void> {
  const data = items.map((item) => `${JSON.stringify(item)}\n`).join('');
  const fh = await open(path, 'a');
  try {
    const { size } = await fh.stat();
    try {
      await fh.writeFile(data);
      await fh.datasync();
    } catch (err) {
      await fh.truncate(size).catch(() => {});
      throw err;
    }
  } finally {
    await fh.close();
  }
}
