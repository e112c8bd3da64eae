/** What may be written into a page as text: nullish is written as nothing. */
export type HtmlText = string | number | bigint | boolean | Date | null | undefined;

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: HtmlText): string {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** A tagged template that escapes every interpolated value unless it is already `Html`. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function html(strings: TemplateStringsArray, ...values: Array<HtmlText | Html | Array<HtmlText | Html>>): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out +=
      (Array.isArray(v)
        ? v.map((x) => (x instanceof Html ? x.value : escapeHtml(x))).join('')
        : v instanceof Html
          ? v.value
          : escapeHtml(v)) + strings[i + 1]!;
  });
  return new Html(out);
}
