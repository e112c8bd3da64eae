/**
 * A submitted form's fields. Express types `req.body` as `any`; it is an urlencoded form (a field is a string,
 * or an array of them when repeated) or, from a JSON client, any JSON value, so it is read here as `unknown`.
 */

/** The field `name` of a request body; undefined when there is no such field, or no body. */
export function formField(body: unknown, name: string): unknown {
  return body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
}

/**
 * A form field's (or any JSON value's) text, as `String(value ?? '')` writes it: '' when absent, a repeated
 * field's values joined by commas.
 */
export function fieldText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return value.join(',');
  // A JSON object where a form has text: String() wrote it as this, so it is refused or kept as before.
  return value && typeof value === 'object' ? '[object Object]' : '';
}

/** The field `name` of a request body as text (see fieldText). */
export function formText(body: unknown, name: string): string {
  return fieldText(formField(body, name));
}
