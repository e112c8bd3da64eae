// Preloaded into the soaked services (NODE_OPTIONS=--require): SIGUSR2 runs a full garbage collection, so
// the soak samples the heap that is still referenced rather than wherever V8's lazy old-generation
// collection happens to be (a service's heap climbs 40 MB and more before its first mark-compact).
// With HOPMAP_SOAK_GC_DIR set, the heap right after the collection goes to <dir>/<pid> as "<count> <bytes>":
// read later through /metrics it would include whatever the requests in between allocated.
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const dir = process.env.HOPMAP_SOAK_GC_DIR;
let collections = 0;
process.on('SIGUSR2', () => {
  gc();
  if (!dir) return;
  const file = path.join(dir, String(process.pid));
  // Renamed into place, so that the sampler never reads half a line.
  fs.writeFileSync(`${file}.tmp`, `${++collections} ${process.memoryUsage().heapUsed}`);
  fs.renameSync(`${file}.tmp`, file);
});
