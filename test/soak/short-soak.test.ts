import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { median, summarize, thirdsTolerance, type MemoryKind } from '../../scripts/soak-analysis.js';
import { formatSoakReport, runSoak, type SoakReport } from '../../scripts/soak-run.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

/**
 * Requests each service answers before sampling stops: the thirds then hold ~500 requests each, so a leak of
 * 1 MB per 100 requests lifts the last third's heap median ~5 MB above the second's, over the 2 MB tolerance
 * (soak-analysis.ts). Proved once by a leak injected into GET /targets and removed again (docs/scaling.md).
 */
const REQUESTS = 1_500;

describe('short soak: input, output and manager under steady load', { skip }, () => {
  let db: TestDatabase;
  let report: SoakReport;

  before(async () => {
    db = await createTestDatabase('short soak');
    report = await runSoak({
      databaseUrl: db.url,
      untilRequests: REQUESTS,
      // Only a safety net for a stalled load; the run ends on the request count.
      durationMs: 15 * 60_000,
      sampleEveryMs: 2_000,
      ratePerSecond: 30,
      perRequest: 5,
      gcBeforeSample: true,
      signal: AbortSignal.timeout(20 * 60_000),
      progress: (m) => process.env.TEST_LOG_LEVEL && console.error(m),
    });
    if (process.env.TEST_LOG_LEVEL) console.error(formatSoakReport(report));
  });

  after(async () => {
    await db?.drop();
    await assertNoLeaks();
  });

  it('samples every service from /proc and from its /metrics, and the two agree', () => {
    assert.deepEqual(
      report.services.map((s) => s.name),
      ['input', 'output', 'manager'],
    );
    for (const s of report.services) {
      assert.ok(s.samples.length >= 9, `${s.name}: ${s.samples.length} samples`);
      for (const x of s.samples)
        assert.ok(
          x.rssMb > 20 && x.heapMb > 5 && x.heapMb < x.rssMb,
          `${s.name} at ${x.t} s: RSS ${x.rssMb} MB, heap ${x.heapMb} MB`,
        );
      // prom-client reads the same VmRSS a few milliseconds later; a collection in between can move one sample by tens of MB, not the median.
      const ratio = median(s.samples.map((x) => x.metricsRssMb / x.rssMb));
      assert.ok(ratio > 0.9 && ratio < 1.1, `${s.name}: /metrics RSS is ${ratio.toFixed(2)} × /proc's (median)`);
    }
  });

  it('serves the whole load without errors', () => {
    assert.equal(report.errors, 0, report.errorSamples.join(' | '));
    for (const s of report.services) {
      assert.ok(s.requests >= REQUESTS, `${s.name}: ${s.requests} requests`);
      assert.deepEqual(s.logErrors, [], `${s.name} logged errors`);
    }
  });

  it("keeps every service's memory flat after the warm-up", () => {
    for (const s of report.services) {
      const third = Math.floor(s.samples.length / 3);
      // A leak this test must catch grows with requests, so the window must have held enough of them.
      const between =
        median(s.samples.slice(2 * third).map((x) => x.requests!)) -
        median(s.samples.slice(third, 2 * third).map((x) => x.requests!));
      assert.ok(between >= 300, `${s.name}: only ${between} requests between the medians of the last two thirds`);
      // The heap only: sampled after a full GC it moves < 1 MB when healthy, while RSS moved up to 14 MB between
      // thirds of a healthy run (the allocator's pages, reconnects); RSS stays in the report and the script's verdict.
      for (const kind of ['heapMb'] as MemoryKind[]) {
        const m = summarize(s.samples, kind);
        const base = median(s.samples.slice(third, 2 * third).map((x) => x[kind]));
        assert.ok(
          m.thirdsGrowthMb <= thirdsTolerance(kind, base),
          `${s.name} ${kind}: the last third's median is ${m.thirdsGrowthMb.toFixed(1)} MB above the second's (tolerance ${thirdsTolerance(kind, base).toFixed(1)} MB, ${between} requests apart):\n${formatSoakReport(report)}`,
        );
      }
    }
  });
});
