import { whereAlpha2 } from 'iso-3166-1';
import { parseTarget } from '../../net/ip-address.js';

/** One operator-declared range: every address in `prefix` belongs to `asn`. */
export interface LocalRange {
  /** Canonical CIDR. */
  prefix: string;
  asn: number;
  org: string;
  /** ISO 3166-1 alpha-2, upper case. */
  country: string | null;
}

/** A CSV line that cannot be loaded; `field` is null when the line as a whole is wrong. */
export class LocalRangesError extends Error {
  override name = 'LocalRangesError';

  constructor(
    readonly line: number,
    readonly field: 'prefix' | 'asn' | 'org' | 'country' | null,
    reason: string,
  ) {
    super(`line ${line}${field ? `, field ${field}` : ''}: ${reason}`);
  }
}

const FIELDS = ['prefix', 'asn', 'org', 'country'] as const;
const MAX_ASN = 4_294_967_295;

/** Splits one CSV line (RFC 4180 quoting: `"a, b"`, `""` for a quote); null when a quote is left open. */
function splitCsvLine(line: string): string[] | null {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted && ch === '"' && line[i + 1] === '"') {
      field += '"';
      i++;
    } else if (ch === '"' && (quoted || field.trim() === '')) {
      if (!quoted) field = '';
      quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      out.push(field.trim());
      field = '';
    } else {
      field += ch;
    }
  }
  if (quoted) return null;
  out.push(field.trim());
  return out;
}

/**
 * Reads `prefix,asn,org[,country]` lines (a `prefix,…` header, blank lines and `#` comments allowed), e.g.
 * `10.20.0.0/16,AS64512,"Example Corp, backbone",NL`. Throws a LocalRangesError naming the first bad line and field.
 */
export function parseLocalRanges(text: string): LocalRange[] {
  const ranges: LocalRange[] = [];
  const lineOf = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const n = i + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    const fields = splitCsvLine(raw);
    if (!fields) throw new LocalRangesError(n, null, 'a quoted field is not closed');
    if (ranges.length === 0 && fields[0]!.toLowerCase() === 'prefix') return;
    if (fields.length < 3 || fields.length > 4)
      throw new LocalRangesError(n, null, `${fields.length} fields; expected ${FIELDS.join(',')} (country optional)`);
    const [prefixText, asnText, org, countryText = ''] = fields as [string, string, string, string?];

    const parsed = parseTarget(prefixText);
    if (!parsed.ok) throw new LocalRangesError(n, 'prefix', parsed.reason);
    const prefix = parsed.block.cidr;
    const earlier = lineOf.get(prefix);
    if (earlier !== undefined)
      throw new LocalRangesError(n, 'prefix', `${prefix} is declared on line ${earlier} already`);

    const digits = /^(?:AS)?(\d{1,10})$/i.exec(asnText)?.[1];
    const asn = digits === undefined ? NaN : Number(digits);
    if (!(asn >= 1 && asn <= MAX_ASN))
      throw new LocalRangesError(n, 'asn', `"${asnText}" is not an AS number (1 to ${MAX_ASN}, "AS" optional)`);
    if (org === '') throw new LocalRangesError(n, 'org', 'the organisation name is empty');

    let country: string | null = null;
    if (countryText !== '') {
      country = countryText.toUpperCase();
      if (!/^[A-Z]{2}$/.test(country) || !whereAlpha2(country))
        throw new LocalRangesError(n, 'country', `"${countryText}" is not an ISO 3166-1 alpha-2 country code`);
    }
    lineOf.set(prefix, n);
    ranges.push({ prefix, asn, org, country });
  });
  return ranges;
}
