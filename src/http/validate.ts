import type { z } from 'zod';
import { HttpError, type ErrorDetail } from './http-error.js';

/** Formats a zod path as a person reads it: `targets[3].ip`. */
export function formatPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out || '(root)';
}

export function zodDetails(error: z.ZodError, base: string): ErrorDetail[] {
  return error.issues.map((issue) => {
    // An unknown key is reported on its parent; name the key itself so the user sees which one.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const path = keys.length === 1 ? [...issue.path, keys[0]!] : issue.path;
    return { path: formatPath(base, path), message: issue.message };
  });
}

/**
 * Parses request input with a zod schema, or throws a 400 whose message names every bad field and why.
 * `where` is the part of the request: 'body', 'query' or 'params'.
 */
export function parseRequest<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'query' | 'params',
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = zodDetails(result.error, where);
  const message = `invalid ${where}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`;
  throw new HttpError(400, 'validation_failed', message, details);
}
