import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/create-logger.js';
import { appendLines } from './append-lines.js';
import type { ResultLedger } from './result-ledger.js';

const FILE = 'quarantine.ndjson';

/**
 * Results the output keeps failing on while it stores others (a "poison" result), held aside in
 * `quarantine.ndjson` beside the spool's segments so that the rest flows on. Nothing here is ever dropped:
 * a result leaves only when the output has it, or names it as bad. The file is small (one line per
 * quarantined result), appended with fdatasync and rewritten whole when results leave.
 */
export class ResultQuarantine {
  private constructor(
    private readonly path: string,
    private readonly ledger: ResultLedger,
    private readonly log: Logger | undefined,
    private held: object[],
  ) {}

  static async open(dir: string, ledger: ResultLedger, log?: Logger): Promise<ResultQuarantine> {
    const path = join(dir, FILE);
    const held: object[] = [];
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        held.push(JSON.parse(line) as object);
      } catch {
        ledger.produced++;
        ledger.drop(1);
        log?.error({ file: path }, 'result quarantine: a line that is not JSON (disk corruption) is lost');
      }
    }
    ledger.produced += held.length;
    ledger.quarantined += held.length;
    if (held.length)
      log?.warn({ quarantined: held.length }, 'result quarantine: results from before the restart are still held');
    return new ResultQuarantine(path, ledger, log, held);
  }

  get size(): number {
    return this.held.length;
  }

  /** The held results, oldest first. */
  items(): readonly object[] {
    return this.held;
  }

  /**
   * Makes `items` durable here. The caller then acknowledges them in the spool with `quarantined`, which
   * counts them in the ledger in the same step as they leave the backlog.
   */
  async add(items: readonly object[]): Promise<void> {
    await appendLines(this.path, items);
    this.held.push(...items);
  }

  /** `item` reached the output (stored, or named as bad when `rejected`): it leaves the quarantine. */
  async release(item: object, { rejected = false }: { rejected?: boolean } = {}): Promise<void> {
    const i = this.held.indexOf(item);
    if (i === -1) return;
    this.held.splice(i, 1);
    this.ledger.quarantined--;
    if (rejected) this.ledger.rejected++;
    else this.ledger.delivered++;
    // If the rewrite fails (a full disk) the result is sent again after a restart; the output de-duplicates it.
    await this.rewrite().catch((err: Error) =>
      this.log?.warn(
        { err: err.message },
        'result quarantine: file not rewritten; a released result may be sent again after a restart',
      ),
    );
  }

  private async rewrite(): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(this.held.map((i) => `${JSON.stringify(i)}\n`).join(''));
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
  }
}
