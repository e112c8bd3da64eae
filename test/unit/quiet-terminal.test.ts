import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labMapCommand, labMapHint } from '../../src/lab/lab-map-hint.js';
import { elapsed, formatLabProgress, ProgressLine, progressWrite } from '../../src/lab/lab-progress.js';
import { createLogger } from '../../src/log/create-logger.js';
import { graphileMethod } from '../../src/log/graphile-logger.js';
import { messageOf, quietTerminal, shownOnTerminal } from '../../src/log/quiet-terminal.js';

const DEBUG = 20;
const INFO = 30;
const WARN = 40;
const ERROR = 50;

describe('hopmap up on a terminal: which log lines show', () => {
  const rows: Array<{ level: number; message: string; tty: boolean; off: boolean }> = [
    // On a terminal: what an operator must act on.
    { level: ERROR, message: 'Failed task 7 (poll_services, 3.10ms, attempt 1 of 1) with error', tty: true, off: true },
    { level: WARN, message: 'child exited; restarting', tty: true, off: true },
    { level: INFO, message: 'polled 3 services: 2 ok, 1 degraded, 0 down', tty: true, off: true },
    // Routine: hidden on the terminal, unchanged off it.
    { level: INFO, message: 'input service listening', tty: false, off: true },
    { level: INFO, message: 'enriched 12 hop addresses', tty: false, off: true },
    {
      level: INFO,
      message: 'leases: 3 expired and fully acknowledged closed, 0 expired awaiting re-serve',
      tty: false,
      off: true,
    },
    { level: INFO, message: 'Worker connected and looking for jobs... (task names: …)', tty: false, off: true },
    { level: DEBUG, message: 'Completed task 12 (enrich_hops, 3.30ms) with success', tty: false, off: true },
  ];
  for (const r of rows) {
    it(`${r.level} "${r.message.slice(0, 50)}": ${r.tty ? 'shown' : 'hidden'} on a terminal, shown elsewhere`, () => {
      assert.equal(shownOnTerminal({ isTTY: true, level: r.level, message: r.message }), r.tty);
      assert.equal(shownOnTerminal({ isTTY: false, level: r.level, message: r.message }), r.off);
    });
  }

  it('runs quiet only on a terminal at the default level, not in CI', () => {
    const base = { isTTY: true, ci: false, verbose: false, logLevel: 'info' };
    assert.equal(quietTerminal(base), true);
    assert.equal(quietTerminal({ ...base, isTTY: false }), false, 'systemd, a pipe, a test');
    assert.equal(quietTerminal({ ...base, ci: true }), false);
    assert.equal(quietTerminal({ ...base, verbose: true }), false, '--verbose shows every line');
    assert.equal(quietTerminal({ ...base, logLevel: 'debug' }), false, '--log-level debug too');
    assert.equal(quietTerminal({ ...base, logLevel: 'warn' }), false);
  });

  it("reads the message of pino's two call forms", () => {
    assert.equal(messageOf(['text']), 'text');
    assert.equal(messageOf([{ a: 1 }, 'text']), 'text');
    assert.equal(messageOf([{ a: 1 }]), '');
  });

  it('off a terminal a quiet logger hides nothing: structured lines stay as they are', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', pretty: true, quietTerminal: true, write: (t) => lines.push(t) });
    log.child({ module: 'x' }).info('input service listening');
    log.warn('child exited; restarting');
    assert.equal(process.stdout.isTTY === true, false, 'the test runner gives no terminal');
    assert.equal(lines.length, 2, lines.join(''));
  });
});

describe("graphile-worker's lines in our log", () => {
  it('puts routine completions at debug, with their whole job', () => {
    assert.equal(graphileMethod('info', 'Completed task 1 (poll_services, 1.14ms) with success'), 'debug');
    assert.equal(
      graphileMethod('info', 'Completed task 12345 (roll_up_results_per_minute, 24.41ms) with success'),
      'debug',
    );
  });

  it('keeps failures, retries and a success after failed attempts where they were', () => {
    assert.equal(
      graphileMethod('info', 'Completed task 9 (rotate_results, 2.00ms, attempt 3 of 25) with success'),
      'info',
      'it failed before: worth a line',
    );
    assert.equal(
      graphileMethod('error', "Failed task 9 (rotate_results, 2.00ms, attempt 1 of 25) with error 'x'"),
      'error',
    );
    assert.equal(graphileMethod('warning', 'Not a valid task'), 'warn');
    assert.equal(graphileMethod('info', "Worker connected and looking for jobs... (task names: 'a')"), 'info');
    assert.equal(graphileMethod('debug', 'Graceful shutdown complete'), 'debug');
  });
});

describe('hopmap lab run: progress', () => {
  it('says what it found so far and how long it took', () => {
    assert.equal(
      formatLabProgress({ results: 12345, hops: 56, links: 78, pending: 9 }, 42_500),
      '42 s: 12,345 results, 56 hops, 78 links, 9 to measure',
    );
    assert.equal(elapsed(185_000), '3 min 05 s');
  });

  it('overwrites one line on a terminal; elsewhere writes a line at most every 10 s', () => {
    assert.equal(progressWrite({ isTTY: true, lastLineAt: 1_000, now: 1_001, everyMs: 10_000 }), 'overwrite');
    assert.equal(progressWrite({ isTTY: false, lastLineAt: undefined, now: 0, everyMs: 10_000 }), 'line');
    assert.equal(progressWrite({ isTTY: false, lastLineAt: 1_000, now: 10_999, everyMs: 10_000 }), 'skip');
    assert.equal(progressWrite({ isTTY: false, lastLineAt: 1_000, now: 11_000, everyMs: 10_000 }), 'line');
  });

  it('off a terminal: each step on its line, figures every 10 s', () => {
    let now = 0;
    const out: string[] = [];
    const line = new ProgressLine({ isTTY: false, write: (t) => out.push(t) }, 10_000, () => now);
    line.step('building the lab');
    for (now = 500; now <= 25_000; now += 500) line.update(`figures at ${now}`);
    line.end();
    assert.deepEqual(out, ['building the lab\n', 'figures at 10000\n', 'figures at 20000\n']);
  });

  it('on a terminal: one line, redrawn, ended with a newline', () => {
    const out: string[] = [];
    const line = new ProgressLine({ isTTY: true, write: (t) => out.push(t) });
    line.step('building the lab');
    line.update('1 s: 0 results');
    line.end();
    line.end();
    assert.deepEqual(out, ['\rbuilding the lab\x1b[K', '\r1 s: 0 results\x1b[K', '\n']);
  });

  it('ends with the one command that serves the map, without a password', () => {
    const command = labMapCommand('lab/internet.yaml', {
      name: 'x',
      databaseUrl: 'postgres://u:secret@db.example:5432/postgres',
      stateDir: '/srv/hop map',
    });
    assert.equal(
      command,
      "hopmap lab map lab/internet.yaml --name x --database-url 'postgres://u:****@db.example:5432/postgres' --state-dir '/srv/hop map'",
    );
    assert.equal(labMapCommand('lab/internet.yaml', {}), 'hopmap lab map lab/internet.yaml');
    const place = {
      databaseUrl: 'postgres://u:secret@db.example:5432/hopmap_lab_x',
      embedded: false,
      command,
      serverFromEnv: false,
    };
    let text = labMapHint(place).join('\n');
    assert.ok(!text.includes('secret'), text);
    assert.match(text, /database {2}postgres:\/\/u:\*\*\*\*@db\.example:5432\/hopmap_lab_x/);
    assert.match(text, /open it {3}hopmap lab map lab\/internet\.yaml --name x /);
    assert.match(text, /https:\/\/127\.0\.0\.1:8444\/map\/graph/);
    assert.ok(!/hopmap (user add|manager)/.test(text), text);
    text = labMapHint({ ...place, embedded: true }).join('\n');
    assert.match(text, /starts the embedded PostgreSQL again/);
    text = labMapHint({ ...place, serverFromEnv: true }).join('\n');
    assert.match(text, /with the same DATABASE_URL/);
  });
});
