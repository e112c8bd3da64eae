// A node:test reporter (plain JS: node loads reporters before tsx) that appends every skipped test or suite and
// every failed test to HOPMAP_TEST_OUTCOMES_OUT, one JSON line each ({ outcome, file, name, reason }).
// test/run-tests.ts counts the skips by reason in its closing summary (failing the run on any when
// HOPMAP_FORBID_SKIPS=1) and names every failure there, so the end of a long CI log says what failed.
import { appendFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The first line of what failed: the assertion's message, else the error's. */
function firstLine(error) {
  const cause = error?.cause ?? error;
  const text = String(cause?.message ?? cause ?? 'failed');
  return text.split('\n').find((l) => l.trim()) ?? 'failed';
}

// It writes nothing to its destination, so it is a plain async function (stream.compose takes one as a sink),
// not a generator with nothing to yield.
export default async function outcomes(source) {
  const out = process.env.HOPMAP_TEST_OUTCOMES_OUT;
  for await (const event of source) {
    if (!out) continue;
    const file = event.data?.file ? relative(ROOT, event.data.file) : '';
    let line;
    if (event.type === 'test:pass' && event.data.skip) {
      const reason = event.data.skip === true ? 'skipped without a reason' : String(event.data.skip);
      line = { outcome: 'skip', file, name: event.data.name, reason };
    } else if (event.type === 'test:fail') {
      const error = event.data.details?.error;
      // A suite fails because a test in it did: that test has its own line.
      if (error?.failureType === 'subtestsFailed') continue;
      line = { outcome: 'fail', file, name: event.data.name, reason: firstLine(error).slice(0, 300) };
    } else continue;
    await appendFile(out, `${JSON.stringify(line)}\n`);
  }
}
