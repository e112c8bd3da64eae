import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { BenchCase, BenchContext } from '../../bench/bench-case.js';
import type { MachineInfo } from '../../bench/bench-database.js';
import { formatReport, jsonReport, type ReportRow } from '../../bench/bench-table.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { prepareTestServer } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const machine: MachineInfo = {
  cpus: '2 × Test CPU',
  memory: '1.0 GiB',
  node: 'v20.0.0',
  postgres: 'PostgreSQL 15.0',
  server: 'test',
  settings: 'fsync=on',
};

/** A case as the registry holds them, with figures fixed so the formatting is known. */
const fakeCase: BenchCase = {
  name: 'fake',
  run() {
    return Promise.resolve({
      figures: [
        { id: 'fake/raw', label: 'rows/s, raw', value: 40_000, unit: 'rows/s' },
        {
          id: 'fake/ours',
          label: 'rows/s, ours',
          value: 10_000,
          unit: 'rows/s',
          baseline: 'fake/raw',
          details: 'p50 3.0 ms',
        },
        {
          id: 'fake/their-probes',
          label: 'probes per target, theirs',
          value: 8,
          unit: 'probes/target',
          better: 'lower',
        },
        {
          id: 'fake/our-probes',
          label: 'probes per target, ours',
          value: 18,
          unit: 'probes/target',
          better: 'lower',
          baseline: 'fake/their-probes',
        },
        { id: 'fake/query', label: 'query, ours', value: 2.5, unit: 'ms', baseline: 'fake/absent' },
      ],
      notes: ['fake: what it measures'],
    });
  },
};

describe('bench table', { skip }, () => {
  it('prints each figure with its unit beside its baseline, the ratio and which way is better', async () => {
    const { figures, notes } = await fakeCase.run({} as BenchContext);
    const text = formatReport({
      machine,
      seconds: 5,
      warmupSeconds: 2,
      load: { start: 1.5, end: 2.25 },
      totalSeconds: 75,
      figures,
      notes,
    });
    const lines = text.split('\n');
    const row = (label: string) =>
      lines.find((l) => l.startsWith(label)) ?? assert.fail(`no row for ${label} in\n${text}`);

    assert.match(lines[0]!, /^hopmap bench: 2 × Test CPU, 1\.0 GiB RAM, node v20\.0\.0$/);
    assert.match(text, /load average 1\.50 at the start, 2\.25 at the end; whole run 1 min 15 s/);
    assert.match(row('rows/s, ours'), /10,000 rows\/s\s+rows\/s, raw\s+40,000 rows\/s\s+0\.25\s+higher\s+p50 3\.0 ms$/);
    assert.match(
      row('probes per target, ours'),
      /18 probes\/target\s+probes per target, theirs\s+8 probes\/target\s+2\.25\s+lower$/,
    );
    // A time is a cost even when the figure does not say so; a baseline that did not run is named, not hidden.
    assert.match(row('query, ours'), /2\.5 ms\s+\(not measured\)\s+lower$/);
    // A baseline row has no baseline, ratio or direction of its own.
    assert.match(row('rows/s, raw'), /40,000 rows\/s\s+–$/);
    assert.ok(lines.includes('* fake: what it measures'));
    // Every row has its value column right-aligned to the same edge.
    const valueEnds = figures.map((f) => row(f.label).indexOf(f.unit, f.label.length) + f.unit.length);
    assert.equal(new Set(valueEnds).size, 1, text);
  });

  it('writes the same rows as JSON, with the machine and the run', async () => {
    const { figures, notes } = await fakeCase.run({} as BenchContext);
    const report = JSON.parse(
      JSON.stringify(
        jsonReport({
          machine,
          seconds: 5,
          warmupSeconds: 2,
          load: { start: 1, end: 2 },
          totalSeconds: 75,
          figures,
          notes,
          options: { only: ['fake'] },
          date: new Date('2026-12-01T00:00:00Z'),
        }),
      ),
    );
    assert.deepEqual(report.machine, machine);
    assert.equal(report.date, '2026-12-01T00:00:00.000Z');
    assert.deepEqual(report.load, { start: 1, end: 2 });
    assert.equal(report.totalSeconds, 75);
    assert.deepEqual(report.notes, notes);
    const rows = report.rows as ReportRow[];
    assert.deepEqual(
      rows.map((r) => r.id),
      figures.map((f) => f.id),
    );
    assert.deepEqual(rows[1], {
      id: 'fake/ours',
      label: 'rows/s, ours',
      value: 10_000,
      unit: 'rows/s',
      baseline: { id: 'fake/raw', label: 'rows/s, raw', value: 40_000, unit: 'rows/s' },
      ratio: 0.25,
      better: 'higher',
      details: 'p50 3.0 ms',
    });
    assert.equal(rows[0]!.baseline, null);
    assert.equal(rows[0]!.ratio, null);
    assert.equal(rows[3]!.ratio, 18 / 8);
    assert.equal(rows[3]!.better, 'lower');
    assert.deepEqual(rows[4]!.baseline, { id: 'fake/absent', label: '(not measured)', value: null, unit: null });
    assert.equal(rows[4]!.ratio, null);
  });

  it('npm run bench -- --only raw-sql-lease prints the table and writes its rows as JSON', async () => {
    const { adminUrl } = await prepareTestServer();
    const dir = await mkdtemp(join(tmpdir(), 'hopmap-bench-test-'));
    try {
      const file = join(dir, 'bench.json');
      const run = await runNpmBench(['--only', 'raw-sql-lease', '--seconds', '1', '--warmup', '0', '--json', file], {
        DATABASE_URL: adminUrl,
      });
      assert.equal(run.code, 0, run.stderr);
      assert.match(
        run.stdout,
        /^figure\s+value\s+baseline \(same run, same machine\)\s+baseline value\s+ratio\s+better\s+details$/m,
      );
      assert.match(
        run.stdout,
        /^rows leased\/s, raw SQL, 4 clients\s+[\d,]+ rows\/s\s+rows leased\/s, raw SQL, 1 client\s+[\d,]+ rows\/s\s+\d+\.\d\d\s+higher/m,
      );

      const report = JSON.parse(await readFile(file, 'utf8'));
      assert.equal(typeof report.machine.cpus, 'string');
      assert.match(report.machine.postgres, /PostgreSQL/);
      assert.equal(report.seconds, 1);
      assert.equal(typeof report.totalSeconds, 'number');
      const rows = report.rows as ReportRow[];
      assert.deepEqual(
        rows.map((r) => r.id),
        ['raw-sql-lease/1-client', 'raw-sql-lease/4-clients'],
      );
      const [one, four] = rows as [ReportRow, ReportRow];
      assert.ok(one.value > 0 && four.value > 0, JSON.stringify(rows));
      assert.equal(one.unit, 'rows/s');
      assert.equal(one.baseline, null);
      assert.deepEqual(four.baseline, { id: one.id, label: one.label, value: one.value, unit: 'rows/s' });
      assert.equal(four.ratio, four.value / one.value);
      assert.equal(four.better, 'higher');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function runNpmBench(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'bench', '--', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
