import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { resultSchema } from '../../src/results/result-schema.js';
import { PROJECT_ROOT } from '../../src/version.js';

// The examples of docs/result-format.md are the golden fixtures: the documentation cannot drift from the schema.
const examples = [
  ...readFileSync(`${PROJECT_ROOT}/docs/result-format.md`, 'utf8').matchAll(/```json\n([\s\S]*?)```/g),
].map((m) => JSON.parse(m[1]!));

describe('result format v1', () => {
  it('accepts every example in docs/result-format.md', () => {
    assert.ok(examples.length >= 3);
    for (const e of examples) {
      const parsed = resultSchema.safeParse(e);
      assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    }
  });

  const bad: Array<[string, (r: Record<string, unknown>) => void, string]> = [
    ['an unknown field', (r) => (r.colour = 'red'), 'colour'],
    ['another format version', (r) => (r.format = 'hopmap-result/2'), 'format'],
    ['an id that is not a uuid', (r) => (r.id = '42'), 'id'],
    ['a negative RTT', (r) => (r.rtts_us = [-1]), 'rtts_us'],
  ];
  for (const [name, mutate, path] of bad) {
    it(`rejects ${name}, naming the field`, () => {
      const r = structuredClone(examples[0]);
      mutate(r);
      const parsed = resultSchema.safeParse(r);
      assert.equal(parsed.success, false);
      assert.ok(
        parsed.error.issues.some(
          (i) => i.path.join('.').startsWith(path) || (i.code === 'unrecognized_keys' && i.keys.includes(path)),
        ),
        JSON.stringify(parsed.error.issues),
      );
    });
  }
});
