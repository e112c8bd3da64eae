import { formatPath } from '../http/validate.js';
import { resultSchema, type Result } from './result-schema.js';

export interface ItemError {
  /** Position of the item in the body (array index, or NDJSON line number - 1). */
  index: number;
  field: string;
  message: string;
}

/** Validates one item against the result schema; errors name the item's index and the field. */
export function validateResult(
  item: unknown,
  index: number,
): { ok: true; result: Result } | { ok: false; errors: ItemError[] } {
  const parsed = resultSchema.safeParse(item);
  if (parsed.success) return { ok: true, result: parsed.data };
  return {
    ok: false,
    errors: parsed.error.issues.map((issue) => {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      const path = keys.length === 1 ? [...issue.path, keys[0]!] : issue.path;
      return { index, field: formatPath('', path), message: issue.message };
    }),
  };
}
