// A node:test reporter (plain JS: node loads reporters before tsx) that writes how long each test file
// took, the sum of its top-level tests (they run one after another), to HOPMAP_TEST_DURATIONS_OUT as
// JSON. `npm test` starts the longest files first from these figures, so none starts last and runs alone.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// It writes nothing to its destination, so it is a plain async function (stream.compose takes one as a sink),
// not a generator with nothing to yield.
export default async function fileDurations(source) {
  const seconds = new Map();
  for await (const event of source) {
    if ((event.type !== 'test:pass' && event.type !== 'test:fail') || event.data.nesting !== 0 || !event.data.file)
      continue;
    const file = relative(ROOT, event.data.file);
    seconds.set(file, (seconds.get(file) ?? 0) + (event.data.details?.duration_ms ?? 0) / 1000);
  }
  const out = process.env.HOPMAP_TEST_DURATIONS_OUT;
  if (out && seconds.size) {
    const sorted = Object.fromEntries(
      [...seconds].sort((a, b) => b[1] - a[1]).map(([f, s]) => [f, Math.round(s * 10) / 10]),
    );
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(sorted, null, 2)}\n`);
  }
}
