import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interpretAnswer } from '../../src/worker/sink-http.js';

const json = (v: unknown) => JSON.stringify(v);
const summary = { accepted: 3, duplicate: 0, rejected: 1, new_hops: 0, links: 0, route_changes: 0 };

// What each answer of an output means for the batch a worker sent: delivered, retried, split, or held.
describe('what an output answer means for the batch', () => {
  const cases: Array<[string, number, string, string]> = [
    ['200 with counts', 200, json({ ...summary, rejected: 0 }), 'delivered'],
    [
      '400 naming bad items, the rest stored',
      400,
      json({
        error: { code: 'invalid_results', message: 'x' },
        ...summary,
        errors: [{ index: 1, field: 'target', message: 'bad' }],
      }),
      'delivered',
    ],
    ['413 with no summary', 413, json({ error: { code: 'payload_too_large', message: 'x' } }), 'batch'],
    // Stored up to the cut only: counting the batch as delivered would lose what came after it.
    [
      '413 part-way, with the summary of what came before',
      413,
      json({ error: { code: 'payload_too_large', message: 'x' }, ...summary, read_all: false, errors: [] }),
      'batch',
    ],
    [
      '400 too_many_invalid, the rest not read',
      400,
      json({
        error: { code: 'too_many_invalid', message: 'x' },
        ...summary,
        read_all: false,
        errors: [{ index: 0, field: '(line)', message: 'not JSON' }],
      }),
      'batch',
    ],
    ['503', 503, json({ error: { code: 'database_unavailable', message: 'x' } }), 'retry'],
    ['429', 429, '', 'retry'],
    ['401', 401, json({ error: { code: 'api_key_required', message: 'x' } }), 'receiver'],
    ['403', 403, json({ error: { code: 'forbidden_role', message: 'x' } }), 'receiver'],
  ];
  for (const [name, status, body, want] of cases) {
    it(`${name}: ${want}`, () => {
      const out = interpretAnswer(status, undefined, body);
      const got = out.ok ? 'delivered' : (out.permanent ?? 'retry');
      assert.equal(got, want);
    });
  }
});
