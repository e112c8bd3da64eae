import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchCase } from '../bench-case.js';
import { httpMethodNote, measureOneAndTwoInstances } from '../input-throughput.js';
import { RAW_SQL_LEASE } from './raw-sql-lease.js';

export const TARGETS_HTTP = 'targets-http';

/**
 * 64 /16s in 20/8 and 41/8, public space outside every reserved range: 4.2 million addresses per consumer
 * pass, so no pass ends during a measurement and each batch walks already open blocks.
 */
export const SLASH16_BLOCKS = [20, 41].flatMap((a) => Array.from({ length: 32 }, (_, b) => `${a}.${b}.0.0/16`));

/** GET /targets over HTTP from real `hopmap input` processes, with 64 /16 blocks loaded. */
export const targetsHttp: BenchCase = {
  name: TARGETS_HTTP,
  baselines: [RAW_SQL_LEASE],
  async run(ctx) {
    const dir = await mkdtemp(join(tmpdir(), 'hopmap-bench-targets-'));
    try {
      await writeFile(
        join(dir, 'bench-slash16.txt'),
        `# hopmap bench: ${SLASH16_BLOCKS.length} /16 blocks\n${SLASH16_BLOCKS.join('\n')}\n`,
      );
      const { figures, notes } = await measureOneAndTwoInstances(ctx, {
        caseName: TARGETS_HTTP,
        variant: '64 × /16',
        targets: dir,
        rawSqlLease: RAW_SQL_LEASE,
      });
      notes.unshift(
        httpMethodNote(ctx),
        `64 × /16: ${SLASH16_BLOCKS[0]} … ${SLASH16_BLOCKS.at(-1)} in one file, 4.2 million addresses per consumer pass.`,
      );
      return { figures, notes };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
