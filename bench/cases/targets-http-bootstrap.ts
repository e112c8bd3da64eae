import { join } from 'node:path';
import type { BenchCase } from '../bench-case.js';
import { httpMethodNote, measureOneAndTwoInstances } from '../input-throughput.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { RAW_SQL_LEASE } from './raw-sql-lease.js';

export const TARGETS_HTTP_BOOTSTRAP = 'targets-http-bootstrap';

/** The committed bootstrap list: 19,000 single-address blocks, so every target opens a block of its own. */
const BOOTSTRAP_TARGETS = join(PROJECT_ROOT, 'cloud-provider-ip-addresses');

/** GET /targets over HTTP with the bootstrap list loaded: the hard case for the block ring. */
export const targetsHttpBootstrap: BenchCase = {
  name: TARGETS_HTTP_BOOTSTRAP,
  baselines: [RAW_SQL_LEASE],
  async run(ctx) {
    const { figures, notes } = await measureOneAndTwoInstances(ctx, {
      caseName: TARGETS_HTTP_BOOTSTRAP,
      variant: 'bootstrap /32s',
      targets: BOOTSTRAP_TARGETS,
      rawSqlLease: RAW_SQL_LEASE,
    });
    notes.unshift(
      httpMethodNote(ctx),
      'bootstrap /32s: the committed cloud-provider-ip-addresses/ (19,000 single-address blocks), so every target opens a new block.',
    );
    return { figures, notes };
  },
};
