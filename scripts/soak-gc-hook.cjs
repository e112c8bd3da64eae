// Preloaded into the soaked services (NODE_OPTIONS=--require): SIGUSR2 runs a full garbage collection, so
// the soak samples the heap that is still referenced rather than wherever V8's lazy old-generation
// collection happens to be (a service's heap climbs 40 MB and more before its first mark-compact).
const v8 = require('node:v8');
const vm = require('node:vm');
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
process.on('SIGUSR2', () => gc());
