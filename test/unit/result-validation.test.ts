import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { validateResult } from '../../src/results/validate-results.js';

/**
 * Golden pairs for what test/results/result-schema.test.ts does not cover: the less common shapes every result
 * type may legally take (a TCP ping with no answer, a trace stopped by the stop set, MPLS at its limits, a
 * silent multipath hop, an alias result where nothing answered), and wrong values of each type's own fields.
 * `<name>.input.json` → `<name>.expected.json`: `{ ok: true }` or the errors, field by field.
 * UPDATE_GOLDEN=1 rewrites the expected files (review the diff).
 */
const dir = join(import.meta.dirname, 'fixtures', 'results');
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.input.json'))
  .map((f) => f.replace('.input.json', ''))
  .sort();

describe('result validation golden pairs (fixtures/results)', () => {
  it('has valid and invalid fixtures of every type', () => {
    const outcomes = names.map(
      (n) => JSON.parse(readFileSync(join(dir, `${n}.expected.json`), 'utf8')) as { ok: boolean },
    );
    assert.ok(outcomes.filter((o) => o.ok).length >= 5);
    assert.ok(outcomes.filter((o) => !o.ok).length >= 5);
  });

  for (const name of names) {
    it(name, () => {
      const input = JSON.parse(readFileSync(join(dir, `${name}.input.json`), 'utf8')) as unknown;
      const checked = validateResult(input, 3);
      const got = checked.ok
        ? { ok: true }
        : { ok: false, errors: checked.errors.map((e) => ({ index: e.index, field: e.field })) };
      const expectedPath = join(dir, `${name}.expected.json`);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(expectedPath, `${JSON.stringify(got, null, 2)}\n`);
      assert.deepEqual(got, JSON.parse(readFileSync(expectedPath, 'utf8')));
      if (checked.ok) assert.deepEqual(checked.result, input, 'a valid result is kept exactly as sent');
    });
  }
});
