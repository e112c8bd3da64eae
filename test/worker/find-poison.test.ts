import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mayBeTheBatch, PoisonSearch } from '../../src/worker/find-poison.js';

const http = (status: number, retryAfterMs?: number) => ({
  ok: false as const,
  reason: `HTTP ${status}`,
  status,
  ...(retryAfterMs !== undefined && { retryAfterMs }),
});

describe('PoisonSearch', () => {
  it("tells an answer that may be the batch's fault from one about the output", () => {
    const cases: Array<[string, Parameters<typeof mayBeTheBatch>[0], boolean]> = [
      ['500', http(500), true],
      ['502 from a proxy', http(502), true],
      ['503 without Retry-After', http(503), true],
      ['503 with Retry-After: the output says it is away', http(503, 1000), false],
      ['429', http(429), false],
      ['connection refused (no status)', { ok: false, reason: 'ECONNREFUSED' }, false],
      ['413 (split by size elsewhere)', { ok: false, reason: 'HTTP 413', status: 413, permanent: 'batch' }, false],
    ];
    for (const [name, outcome, expected] of cases) assert.equal(mayBeTheBatch(outcome), expected, name);
  });

  it('retries a failing batch `patience` times, then halves until one result is left, then asks for a probe', () => {
    const search = new PoisonSearch(3);
    assert.equal(search.failed(500, http(500)), 'retry');
    assert.equal(search.failed(500, http(500)), 'retry');
    assert.equal(search.limit(500), 500);
    assert.equal(search.failed(500, http(500)), 'split');
    assert.equal(search.limit(500), 250);
    // The first half is stored: the output works; the next half of the suspects fails and is halved at once.
    search.stored(250);
    assert.equal(search.limit(500), 250);
    assert.equal(search.failed(250, http(500)), 'split');
    assert.equal(search.limit(500), 125);
    const steps: string[] = [];
    for (let n = 125; n > 1; n = Math.ceil(n / 2)) steps.push(search.failed(n, http(500)));
    assert.ok(
      steps.every((s) => s === 'split'),
      steps.join(),
    );
    assert.equal(search.limit(500), 1);
    assert.equal(search.failed(1, http(500)), 'probe');
    search.reset();
    assert.equal(search.limit(500), 500);
    assert.equal(search.searching, false);
  });

  it('never searches while the output is away, and an outage mid-search ends the search', () => {
    const search = new PoisonSearch(3);
    for (let i = 0; i < 10; i++) assert.equal(search.failed(500, { ok: false, reason: 'ECONNREFUSED' }), 'retry');
    for (let i = 0; i < 10; i++) assert.equal(search.failed(500, http(503, 5000)), 'retry');
    assert.equal(search.limit(500), 500);
    search.failed(500, http(500));
    search.failed(500, http(500));
    assert.equal(search.failed(500, http(500)), 'split');
    assert.equal(search.failed(250, { ok: false, reason: 'ECONNRESET' }), 'retry');
    assert.equal(search.limit(500), 500, 'back to whole batches');
  });

  it('ends the search once the suspected results are all stored (a passing fault, not a poison result)', () => {
    const search = new PoisonSearch(1);
    assert.equal(search.failed(100, http(500)), 'split');
    search.stored(50);
    assert.equal(search.searching, true);
    search.stored(50);
    assert.equal(search.searching, false);
    assert.equal(search.limit(100), 100);
  });
});
