import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeHealth } from '../../src/manager/registry/judge-health.js';
import { normalizeServiceUrl } from '../../src/manager/registry/service-url.js';

const U = 'http://10.0.0.5:8090/health';
const answer = (status: number, body: unknown) => ({
  answer: {
    status,
    text: typeof body === 'string' ? body : JSON.stringify(body),
    json: typeof body === 'string' ? undefined : body,
  },
});

describe('registry: what a /health answer says', () => {
  const cases: Array<
    [string, Parameters<typeof judgeHealth>[1], { status: string; error: string | null; seen: boolean }]
  > = [
    ['ok', answer(200, { status: 'ok', instance_id: 'i1' }), { status: 'ok', error: null, seen: true }],
    [
      'degraded, naming the failing checks',
      answer(200, { status: 'degraded', checks: { database: 'down: timeout', disk: 'ok' } }),
      { status: 'degraded', error: 'degraded: database down: timeout', seen: true },
    ],
    [
      'draining',
      answer(200, { status: 'draining' }),
      { status: 'degraded', error: 'draining: the service is shutting down', seen: true },
    ],
    [
      'a worker that cannot fetch targets',
      answer(200, { status: 'ok', input: { source: 'https://m/gateway', last_fetch_ok: false } }),
      { status: 'degraded', error: 'cannot fetch targets from https://m/gateway', seen: true },
    ],
    [
      'a worker whose delivery keeps failing',
      answer(200, { status: 'ok', delivery: { consecutiveFailures: 4, lastError: 'HTTP 401: api_key_revoked' } }),
      {
        status: 'degraded',
        error: 'result delivery failing (4 attempts in a row): HTTP 401: api_key_revoked',
        seen: true,
      },
    ],
    [
      'a worker with two failed deliveries is still ok',
      answer(200, { status: 'ok', delivery: { consecutiveFailures: 2 } }),
      { status: 'ok', error: null, seen: true },
    ],
    [
      'an unknown status',
      answer(200, { status: 'fine' }),
      { status: 'degraded', error: 'unknown health status "fine"', seen: true },
    ],
    [
      'not JSON',
      answer(200, '<html>'),
      { status: 'degraded', error: `${U} answered something that is not a JSON object`, seen: true },
    ],
    [
      'a 404',
      answer(404, { error: { code: 'not_found', message: 'no route for GET /health' } }),
      { status: 'degraded', error: `${U} answered HTTP 404: no route for GET /health`, seen: true },
    ],
    [
      'a 503',
      answer(503, 'Service Unavailable'),
      { status: 'down', error: `${U} answered HTTP 503: Service Unavailable`, seen: false },
    ],
    [
      'no answer',
      { failure: 'ECONNREFUSED: connect ECONNREFUSED 10.0.0.5:8090' },
      { status: 'down', error: `${U} is unreachable: ECONNREFUSED: connect ECONNREFUSED 10.0.0.5:8090`, seen: false },
    ],
  ];
  for (const [label, outcome, want] of cases) {
    it(label, () => {
      const v = judgeHealth(U, outcome);
      assert.deepEqual({ status: v.status, error: v.error, seen: v.seen }, want);
    });
  }

  it('keeps the key figures and drops the rest', () => {
    const v = judgeHealth(
      U,
      answer(200, {
        status: 'ok',
        uptime_seconds: 5,
        counters: { results_total: 3 },
        spool: { depth: 2 },
        pps_cap: 100,
        secret_stuff: 'x',
      }),
    );
    assert.deepEqual(v.details, {
      status: 'ok',
      uptime_seconds: 5,
      counters: { results_total: 3 },
      spool: { depth: 2 },
      pps_cap: 100,
    });
  });
});

describe('registry: the URL a service is registered under', () => {
  const cases: Array<[string, string]> = [
    ['http://10.0.0.5:8090', 'http://10.0.0.5:8090'],
    ['  http://10.0.0.5:8090/  ', 'http://10.0.0.5:8090'],
    ['10.0.0.5:8090', 'http://10.0.0.5:8090'],
    ['https://Feeder.Example.org/hopmap/service-info', 'https://feeder.example.org/hopmap'],
    ['http://[2001:db8::5]:8080/health?x=1#top', 'http://[2001:db8::5]:8080'],
  ];
  for (const [input, want] of cases) it(`${input} → ${want}`, () => assert.equal(normalizeServiceUrl(input), want));

  for (const [input, message] of [
    ['ftp://x/', /ftp: is not supported/],
    ['http://user:pw@x:1/', /must not carry a user name or password/],
    ['http://', /is not a URL/],
  ] as const) {
    it(`refuses ${input}`, () =>
      assert.throws(
        () => normalizeServiceUrl(input),
        (err: Error & { status?: number }) => err.status === 400 && message.test(err.message),
      ));
  }
});
