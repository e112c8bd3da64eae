import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { PROJECT_ROOT } from '../../src/version.js';

// Who may import whom under src/ (docs/architecture.md). A folder imports any folder of a lower rank; never one
// of a higher rank; one of its own rank only through ALLOWED below.
const RANK: Record<string, number> = {
  'version.ts': 0,
  log: 0,
  net: 0, // ground: leaves
  config: 1,
  process: 1,
  db: 2,
  http: 3,
  jobs: 3,
  service: 4,
  keys: 4,
  web: 4, // the kit every service and page is built from
  targets: 5,
  probe: 5,
  worker: 5,
  results: 5,
  aliases: 5,
  map: 5,
  manager: 5,
  input: 5,
  output: 5, // capabilities
  lab: 6,
  up: 6, // assemblies: compose capabilities for one command
  cli: 7, // the commands
};

/*
 * Today's imports between folders of one rank, each `from → to/module.ts: why`. A new one fails the test: add
 * it here only if it is a capability's narrow interface; an entry nothing uses any more fails too, so the list
 * shrinks as the "to remove" ones go.
 */
const ALLOWED: Record<string, string> = {
  'worker → probe/alias-probes.ts': 'the worker runs the probes: probe/ is its packet library',
  'worker → probe/icmp-socket.ts': 'the worker opens the sockets the probes use',
  'worker → probe/options-socket.ts': 'the worker opens the sockets the probes use',
  'worker → probe/probe-reply.ts': 'the worker turns probe replies into results',
  'worker → probe/source-address.ts': 'the worker asks the routing table whether a probe can leave at all',
  'worker → probe/stop-set.ts': 'the worker keeps a Doubletree stop set across traces',
  'worker → probe/responder-budget.ts': 'the worker keeps per-responder ICMP budgets across traces',
  'worker → probe/tracer.ts': 'the worker runs traces',
  'worker → probe/traceroute.ts': 'the worker runs traces (and configures their options)',
  'worker → results/result-schema.ts': 'the worker writes results in the one result format',
  'worker → aliases/alias-evidence.ts': 'the worker picks alias pairs worth probing from evidence rules',
  'aliases → probe/ip-options.ts': 'alias evidence reads IP options as the probe encodes them',
  'aliases → results/result-schema.ts': 'alias evidence reads alias results in the one result format',
  'input → targets/add-hops.ts': 'the input service is the HTTP door of the target pool',
  'input → targets/consumer-state-format.ts': 'the input service is the HTTP door of the target pool',
  'input → targets/exclusions.ts': 'the input service is the HTTP door of the target pool',
  'input → targets/export-consumer-state.ts': 'the input service is the HTTP door of the target pool',
  'input → targets/import-consumer-state.ts': 'the input service is the HTTP door of the target pool',
  'input → targets/import-targets.ts': 'the input service is the HTTP door of the target pool',
  'input → targets/lease-targets.ts': 'the input service is the HTTP door of the target pool',
  'input → targets/sweep-leases.ts': 'the input service is the HTTP door of the target pool',
  'input → targets/target-policy.ts': 'the input service is the HTTP door of the target pool',
  'input → targets/target-status.ts': 'the input service is the HTTP door of the target pool',
  'output → results/result-schema.ts': 'the output service is the HTTP door of results: it validates and stores them',
  'output → results/validate-results.ts': 'the output service is the HTTP door of results',
  'output → results/store-results.ts': 'the output service is the HTTP door of results',
  'output → results/partitions.ts': 'the output service runs the results tasks (day partitions)',
  'output → results/rotate-results.ts': 'the output service runs the results tasks (rotation)',
  'output → results/results-per-minute.ts': 'the output service reports ingest rates',
  'output → results/ingest-follow-ups.ts':
    "ingest's follow-ups (acks, hops, alias evidence) as the composer passes them",
  'map → results/route-history.ts': 'the map API serves route history',
  'map → results/route-paths.ts': 'the path pages show routes as results store them',
};

const SRC = join(PROJECT_ROOT, 'src');
const folderOf = (path: string) => relative(SRC, path).split(sep)[0]!;

interface Import {
  file: string;
  from: string;
  to: string;
  module: string;
}

/** Every relative import, re-export and dynamic import of every src/**\/*.ts, as TypeScript itself reads them. */
function importsUnderSrc(): Import[] {
  const files = readdirSync(SRC, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'));
  return files.flatMap((f) => {
    const file = join(SRC, f);
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    return info.importedFiles
      .filter((i) => i.fileName.startsWith('.'))
      .map((i) => resolve(dirname(file), i.fileName).replace(/\.js$/, '.ts'))
      .filter((target) => !relative(SRC, target).startsWith('..'))
      .map((target) => ({
        file: relative(SRC, file),
        from: folderOf(file),
        to: folderOf(target),
        module: relative(SRC, target).split(sep).join('/'),
      }));
  });
}

/** What is wrong with one import: null if the table allows it. */
function verdict(i: Import): string | null {
  if (i.from === i.to) return null;
  const from = RANK[i.from];
  const to = RANK[i.to];
  if (from === undefined) return `src/${i.from} is in no layer (add it to RANK and docs/architecture.md)`;
  if (to === undefined) return `src/${i.to} is in no layer (add it to RANK and docs/architecture.md)`;
  if (to < from) return null;
  if (to > from) return `${i.from} (rank ${from}) reaches up to ${i.module} (rank ${to})`;
  return ALLOWED[`${i.from} → ${i.module}`]
    ? null
    : `${i.from} → ${i.module} is a new import between two folders of rank ${from} (not in ALLOWED)`;
}

describe('layers: no import reaches up (docs/architecture.md)', () => {
  const imports = importsUnderSrc();

  it('reads the imports of every folder', () => {
    const folders = new Set(imports.map((i) => i.from));
    for (const folder of ['cli', 'db', 'map', 'net', 'web', 'worker'])
      assert.ok(folders.has(folder), `no imports read from src/${folder}`);
    assert.ok(
      imports.some((i) => i.from === 'db' && i.to === 'log'),
      'db → log is missed: the reader is broken',
    );
  });

  it('every folder of src/ has a rank', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).map((d) => d.name);
    assert.deepEqual(
      folders.filter((f) => RANK[f] === undefined),
      [],
    );
  });

  it('no import goes to a higher layer, nor sideways outside the allowlist', () => {
    const bad = imports.flatMap((i) => {
      const why = verdict(i);
      return why ? [`src/${i.file}: ${why}`] : [];
    });
    assert.deepEqual(bad, []);
  });

  it('every allowlist entry is still used (remove it when its import goes)', () => {
    const used = new Set(imports.map((i) => `${i.from} → ${i.module}`));
    assert.deepEqual(
      Object.keys(ALLOWED).filter((k) => !used.has(k)),
      [],
    );
  });

  it('db imports neither http nor jobs, and nothing under ground imports a capability', () => {
    // The rule above implies it; spelled out because the issue named these two.
    assert.equal(
      verdict({ file: 'db/x.ts', from: 'db', to: 'http', module: 'http/listen.ts' })?.includes('reaches up'),
      true,
    );
    assert.equal(
      verdict({ file: 'db/x.ts', from: 'db', to: 'jobs', module: 'jobs/start-job-runner.ts' })?.includes('reaches up'),
      true,
    );
    assert.equal(
      verdict({ file: 'web/x.ts', from: 'web', to: 'manager', module: 'manager/manager-plugin.ts' })?.includes(
        'reaches up',
      ),
      true,
    );
  });
});
