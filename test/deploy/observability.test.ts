import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { freePort } from '../../src/http/free-port.js';
import { KEY_BYTES } from '../../src/manager/crypto/seal.js';
import { BIN_PATH, PROJECT_ROOT } from '../../src/version.js';
import { postJson, request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { pingResult } from '../support/result-factory.js';
import { bearer, testKey } from '../support/keys.js';
import { spawnNode, type Spawned } from '../support/spawn-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { until } from '../support/until.js';
import { needs } from '../support/needs.js';

const skip = needs('database', 'docker-compose', 'promtool');

const run = promisify(execFile);
const PROMETHEUS_FILE = join(PROJECT_ROOT, 'deploy/prometheus/prometheus.yml');
const DASHBOARD_FILE = join(PROJECT_ROOT, 'deploy/grafana/hopmap-dashboard.json');
/** Series Prometheus makes itself for every target, which no hopmap process exports. */
const PROMETHEUS_OWN = new Set(['up']);
const scratch = mkdtempSync(join(tmpdir(), 'hopmap-observability-'));

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

const dashboardPanels = (text: string): Panel[] => {
  const flat = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...flat(p.panels ?? [])]);
  return flat((JSON.parse(text) as { panels: Panel[] }).panels);
};
const dashboardExprs = (text: string) =>
  dashboardPanels(text).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression reads: identifiers that are not functions, keywords, labels or strings. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [...bare.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?/g)]
    .filter((m) => !m[2] && !KEYWORDS.has(m[1]!.toLowerCase()))
    .map((m) => m[1]!);
  return [...new Set(names)];
}

/** The series names a /metrics page offers: each metric's samples, and a histogram's _bucket/_sum/_count. */
function exportedNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
    const [, name, type] = m;
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) out.add(`${name}${suffix}`);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) out.add(`${name}${suffix}`);
    else out.add(name!);
  }
  return out;
}

async function promtool(...args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args);
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error("promtool not found: apt-get install prometheus (Debian's package)");
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** `promtool check rules` on the expressions as recording rules: PromQL syntax, as Prometheus parses it. */
async function checkPromql(exprs: string[], file: string): Promise<{ ok: boolean; output: string }> {
  const rules = exprs
    .map(
      (expr, i) =>
        `      - record: hopmap:dashboard:${i}\n        expr: ${JSON.stringify(expr.replaceAll('$__rate_interval', '5m'))}`,
    )
    .join('\n');
  writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules}\n`);
  return promtool('check', 'rules', file);
}

after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('Prometheus scrape configuration', { skip }, () => {
  it('promtool check config accepts deploy/prometheus/prometheus.yml', async () => {
    const { ok, output } = await promtool('check', 'config', PROMETHEUS_FILE);
    assert.ok(ok, output);
  });

  it('promtool check config rejects a copy with a misspelled key', async () => {
    const broken = join(scratch, 'broken-prometheus.yml');
    writeFileSync(broken, readFileSync(PROMETHEUS_FILE, 'utf8').replace('metrics_path:', 'metric_path:'));
    const { ok, output } = await promtool('check', 'config', broken);
    assert.ok(!ok, `a broken scrape config passed:\n${output}`);
    assert.match(output, /metric_path/);
  });

  it('scrapes every instance in docker-compose.yml, where it serves /metrics', () => {
    const config = parseYaml(readFileSync(PROMETHEUS_FILE, 'utf8')) as {
      scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const compose = parseYaml(readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { command?: string[] }>;
    };
    // Where each command serves /metrics: the output on its health port, the worker on its health port.
    const metricsPort: Record<string, number> = { input: 8080, output: 8091, manager: 8443, ping: 8090 };
    for (const [command, port] of Object.entries(metricsPort)) {
      const job = config.scrape_configs.find((j) => j.job_name === `hopmap-${command}`);
      assert.ok(job, `a scrape job for ${command}`);
      assert.equal(job.metrics_path ?? '/metrics', '/metrics');
      const want = Object.entries(compose.services)
        .filter(([, s]) => s.command?.[0] === command)
        .map(([name]) => `${name}:${port}`)
        .sort();
      assert.ok(want.length > 0);
      assert.deepEqual(job.static_configs.flatMap((s) => s.targets).sort(), want, `job hopmap-${command}`);
    }
  });
});

describe('Grafana dashboard', { skip }, () => {
  const text = readFileSync(DASHBOARD_FILE, 'utf8');

  it('is a dashboard with a panel for each thing an operator watches', () => {
    const titles = dashboardPanels(text)
      .filter((p) => p.type !== 'row')
      .map((p) => p.title);
    for (const want of [
      'Ingest rate',
      'Lease rate',
      'Request latency',
      'Error ratio',
      'Probe rate',
      'Queue depth',
      'Memory',
      'Event loop lag',
      'Database pool',
    ]) {
      assert.ok(titles.includes(want), `a panel "${want}" (have: ${titles.join(', ')})`);
    }
    for (const p of dashboardPanels(text).filter((p) => p.type !== 'row'))
      assert.ok((p.targets ?? []).length > 0, `panel "${p.title}" has a query`);
  });

  it('every query is PromQL that promtool parses, and a broken one is refused', async () => {
    const exprs = dashboardExprs(text).map((e) => e.expr);
    const good = await checkPromql(exprs, join(scratch, 'dashboard-rules.yml'));
    assert.ok(good.ok, good.output);
    const bad = await checkPromql(['sum(rate(hopmap_results_accepted_total[5m])'], join(scratch, 'broken-rules.yml'));
    assert.ok(!bad.ok, 'an unbalanced parenthesis passed');
  });

  it('metricNames finds the series an expression reads and nothing else', () => {
    const table: Array<[string, string[]]> = [
      ['sum(rate(hopmap_a_total[$__rate_interval]))', ['hopmap_a_total']],
      ['histogram_quantile(0.95, sum by (le, service) (rate(hopmap_h_bucket{route="/x"}[5m])))', ['hopmap_h_bucket']],
      ['sum by (service) (rate(hopmap_c{status=~"5.."}[1m])) / sum by (service) (rate(hopmap_c[1m]))', ['hopmap_c']],
      ['up{job=~"hopmap-.*"} or on (instance) hopmap_g', ['up', 'hopmap_g']],
      ['max(hopmap_x) > bool 0', ['hopmap_x']],
    ];
    for (const [expr, want] of table) assert.deepEqual(metricNames(expr), want, expr);
  });
});

describe('every metric the dashboard uses is exported by a running hopmap', { skip }, () => {
  let db: TestDatabase;
  const procs: Spawned[] = [];
  const urls: Record<string, string> = {};
  const scraped: Record<string, string> = {};

  before(async () => {
    db = await createTestDatabase('observability');
    const [input, output, outputHealth, manager, worker] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const targets = join(scratch, 'targets.txt');
    // Targets in the benchmarking range (RFC 2544), pinged over TCP without traceroutes: no host on the
    // internet is ever probed.
    writeFileSync(targets, '198.18.0.0/30\n');
    const common = { DATABASE_URL: db.url, LOG_LEVEL: 'info' };
    const start = (args: string[], env: Record<string, string> = {}) => {
      const p = spawnNode([BIN_PATH, ...args], { ...common, ...env });
      procs.push(p);
      return p;
    };
    // Migrations ran on the template; --no-migrate keeps the four starts from queueing on its lock.
    const [inputProc, outputProc, managerProc] = [
      start([
        'input',
        '--host',
        '127.0.0.1',
        '--port',
        String(input),
        '--no-migrate',
        '--targets',
        targets,
        '--allow-cidr',
        '198.18.0.0/15',
      ]),
      start([
        'output',
        '--host',
        '127.0.0.1',
        '--port',
        String(output),
        '--health-port',
        String(outputHealth),
        '--no-migrate',
      ]),
      start(['manager', '--host', '127.0.0.1', '--port', String(manager), '--no-migrate', '--tls', 'off'], {
        SERVER_KEY: randomBytes(KEY_BYTES).toString('base64'),
      }),
    ];
    urls.input = `http://127.0.0.1:${input}`;
    urls.output = `http://127.0.0.1:${outputHealth}`;
    urls.manager = `http://127.0.0.1:${manager}`;
    urls.ping = `http://127.0.0.1:${worker}`;
    // The worker starts once it has an input and an output, while the manager is still starting.
    await Promise.all([inputProc, outputProc].map((p) => p.waitFor(/service listening/, 120_000)));
    start(
      [
        'ping',
        '--input-file',
        urls.input,
        '--output-file',
        `http://127.0.0.1:${output}`,
        '--health-check-port',
        String(worker),
        '--health-check-host',
        '127.0.0.1',
        '--ping-method',
        'tcp',
        '--pps',
        '50',
        '--spool-dir',
        join(scratch, 'spool'),
        '--worker-id',
        'obs-1',
      ],
      {
        HOPMAP_ENABLE_TRACEROUTE: 'false',
        HOPMAP_INTERVAL_SECONDS: '1',
        HOPMAP_PROBE_TIMEOUT: '200ms',
        HOPMAP_API_KEY: await testKey(db.url, 'worker', 'obs-1'),
      },
    );
    await managerProc.waitFor(/service listening/, 120_000);

    // A little traffic on each: leases from the input, results into the output, pages from the manager.
    const key = bearer(await testKey(db.url, 'worker', 'obs-test'));
    assert.equal(
      (await request(`${urls.input}/targets?n=2`, { headers: { 'X-Consumer-Id': 'obs-test', ...key } })).status,
      200,
    );
    assert.equal(
      (await postJson(`http://127.0.0.1:${output}/results`, [pingResult('198.18.0.1'), pingResult('198.18.0.2')], key))
        .status,
      200,
    );
    assert.equal((await postJson(`http://127.0.0.1:${output}/results`, { not: 'a result' }, key)).status, 400);
    assert.equal((await request(`${urls.manager}/ready`)).status, 200);
    await request(`${urls.manager}/no-such-page`);
    // The worker has fetched targets and delivered its results through the output.
    await until(
      'the worker delivers results',
      async () => {
        const res = await request(`${urls.ping}/metrics`).catch(() => undefined);
        return res?.status === 200 && /^hopmap_results_total\{[^}]*\} [1-9]/m.test(res.body.toString())
          ? true
          : undefined;
      },
      { timeoutMs: 120_000 },
    );
    for (const [service, url] of Object.entries(urls)) {
      const res = await request(`${url}/metrics`);
      assert.equal(res.status, 200, `${service} /metrics`);
      scraped[service] = res.body.toString();
    }
  });

  after(async () => {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await db?.drop();
    await assertNoLeaks();
  });

  it('each service serves the metrics its panels read', () => {
    const exported = new Set(Object.values(scraped).flatMap((text) => [...exportedNames(text)]));
    const missing = dashboardExprs(readFileSync(DASHBOARD_FILE, 'utf8')).flatMap(({ panel, expr }) =>
      metricNames(expr)
        .filter((name) => !exported.has(name) && !PROMETHEUS_OWN.has(name))
        .map((name) => `${name} (panel "${panel}")`),
    );
    assert.deepEqual(missing, [], 'the dashboard reads metrics no hopmap process exports');
  });

  it('the check fails for a dashboard that reads a metric nobody exports', () => {
    const exported = new Set(Object.values(scraped).flatMap((text) => [...exportedNames(text)]));
    const names = metricNames(
      'sum(rate(hopmap_results_acceptd_total[5m])) / sum(rate(hopmap_http_request_duration_seconds[5m]))',
    );
    assert.deepEqual(
      names.filter((n) => !exported.has(n)),
      ['hopmap_results_acceptd_total', 'hopmap_http_request_duration_seconds'],
      'a typo, and a histogram read without _bucket/_sum/_count',
    );
  });

  it('the traffic shows in the series the dashboard reads', () => {
    const sample = (service: string, re: RegExp) => Number(re.exec(scraped[service]!)?.[1] ?? NaN);
    assert.equal(sample('output', /^hopmap_results_accepted_total\{[^}]*\} (\S+)$/m) >= 2, true, 'results stored');
    assert.equal(sample('output', /^hopmap_results_rejected_total\{[^}]*\} (\S+)$/m) >= 1, true, 'results rejected');
    assert.equal(sample('input', /^hopmap_leases_issued_total\{[^}]*\} (\S+)$/m) >= 1, true, 'leases issued');
    assert.ok(sample('ping', /^hopmap_probes_sent_total\{[^}]*\} (\S+)$/m) >= 1, 'probes sent');
    assert.match(
      scraped.manager!,
      /^hopmap_http_request_duration_seconds_count\{[^}]*status="404"[^}]*\} [1-9]/m,
      'the manager counted its 404',
    );
    assert.match(
      scraped.input!,
      /^hopmap_db_pool_connections\{state="total"[^}]*\} [1-9]/m,
      "the input's pool has a connection open",
    );
    assert.match(scraped.output!, /^hopmap_jobs_queued\{[^}]*\} \d+$/m, 'the job backlog is read');
    assert.match(scraped.ping!, /^hopmap_spool_results\{[^}]*\} \d+$/m, "the worker's spool depth is read");
  });
});
