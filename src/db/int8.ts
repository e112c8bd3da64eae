/**
 * hopmap's one rule for PostgreSQL's int8 (bigint, bigserial, count(*), sum() of integers), which node-postgres
 * hands over as a decimal string because a JavaScript number cannot hold every int8 (docs/sql.md):
 *
 * - a value that only passes through (an id in a JSON answer, a dump, a log line) stays the string it arrived as;
 * - a value the code computes with or compares as a number goes through `int8()` where it is read;
 * - a value small by nature (a count of rows on a page) or a float by intent (a sum of observations) is cast in SQL
 *   (`::int`, `::float8`), so the row type says `number` truthfully.
 *
 * No type parser is set on the pool: it would turn ids that answers carry as strings today into numbers, and change
 * the job ids graphile-worker reads on the same pool.
 */

/** An int8 read as a number; throws rather than round a value beyond Number.MAX_SAFE_INTEGER (2^53 - 1). */
export function int8(value: string | number): number;
export function int8(value: string | number | null): number | null;
export function int8(value: string | number | null): number | null {
  if (value === null) return null;
  const n = typeof value === 'number' ? value : /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n))
    throw new RangeError(
      `int8 value ${JSON.stringify(value)} is not an integer within ±${Number.MAX_SAFE_INTEGER}: keep it as a string (src/db/int8.ts)`,
    );
  return n;
}
