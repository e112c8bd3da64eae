import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/version.js';

/** Every `<!-- query: name -->` followed by a ```sql block in a page of docs/, by name, as a newcomer would paste it. */
export function docQueries(page: string): Map<string, string> {
  const doc = readFileSync(join(PROJECT_ROOT, 'docs', page), 'utf8');
  const out = new Map<string, string>();
  for (const m of doc.matchAll(/<!-- query: ([\w-]+) -->\s*```sql\n([\s\S]*?)```/g)) {
    assert.ok(!out.has(m[1]!), `${page}: query ${m[1]} appears twice`);
    out.set(m[1]!, m[2]!);
  }
  return out;
}

/** Every ```sql block of a page, named or not: a block the tests do not know of fails them. */
export function sqlBlockCount(page: string): number {
  return [...readFileSync(join(PROJECT_ROOT, 'docs', page), 'utf8').matchAll(/```sql\n/g)].length;
}

/**
 * The query with the value of `name` in its `params` line (`'w1'::text as worker`) replaced, as the doc tells a
 * reader to edit it; fails when the line has no such value, so a doc that drops it fails the test.
 */
export function withParam(sql: string, name: string, value: string): string {
  const re = new RegExp(`'[^']*'::(\\w+) as ${name}\\b`);
  assert.match(sql, re, `the query's params line has no ${name}: ${sql}`);
  return sql.replace(re, `'${value.replaceAll("'", "''")}'::$1 as ${name}`);
}
