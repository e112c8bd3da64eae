// A node:test reporter (plain JS: node loads reporters before tsx) that appends every skipped test or suite
// to HOPMAP_TEST_SKIPS_OUT, one JSON line each ({ file, name, reason }): test/run-tests.ts counts them by
// reason in its closing summary, and fails the run on any when HOPMAP_FORBID_SKIPS=1.
import { appendFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// It writes nothing to its destination, so it is a plain async function (stream.compose takes one as a sink),
// not a generator with nothing to yield.
export default async function skips(source) {
  const out = process.env.HOPMAP_TEST_SKIPS_OUT;
  for await (const event of source) {
    if (!out || event.type !== 'test:pass' || !event.data.skip) continue;
    const reason = event.data.skip === true ? 'skipped without a reason' : String(event.data.skip);
    const line = { file: event.data.file ? relative(ROOT, event.data.file) : '', name: event.data.name, reason };
    await appendFile(out, `${JSON.stringify(line)}\n`);
  }
}
