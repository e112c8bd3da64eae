// Reads the IPv4 → ASN table shipped by the @ip-location-db/asn npm package.

import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Range } from './ipv4.js';

export const ASN_PACKAGE = '@ip-location-db/asn';
// The numeric variant: no address parsing needed, rows are `start,end,asn,org`.
export const ASN_CSV_FILE = 'asn-ipv4-num.csv';

export interface AsnDataset {
  readonly version: string;
  readonly csvPath: string;
}

export interface AsnTable {
  /** Rows per ASN, in file order. */
  readonly ranges: Map<number, Range[]>;
  /** Distinct org names seen per ASN. */
  readonly orgs: Map<number, Set<string>>;
}

export function locateAsnDataset(): AsnDataset {
  // Resolve through Node's module lookup so a hoisted or nested install both work.
  const packageJsonPath = createRequire(import.meta.url).resolve(`${ASN_PACKAGE}/package.json`);
  const packageJson: unknown = JSON.parse(readFileSync(packageJsonPath, 'utf8'));
  const version = (packageJson as { version?: unknown }).version;
  if (typeof version !== 'string') throw new Error(`${packageJsonPath} has no version`);
  return { version, csvPath: join(dirname(packageJsonPath), ASN_CSV_FILE) };
}

/** Streams the CSV and keeps only rows whose ASN is in `wanted`. */
export async function readAsnTable(csvPath: string, wanted: ReadonlySet<number>): Promise<AsnTable> {
  const table: AsnTable = { ranges: new Map(), orgs: new Map() };
  const lines = createInterface({ input: createReadStream(csvPath), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line === '') continue;
    const row = parseRow(line, wanted);
    if (row === 'malformed') throw new Error(`${csvPath}:${lineNumber}: malformed row: ${line}`);
    if (row) addRow(table, row);
  }
  return table;
}

interface Row {
  readonly asn: number;
  readonly range: Range;
  readonly org: string;
}

// Only the ASN is parsed for every row; the rest only for wanted rows (speed).
function parseRow(line: string, wanted: ReadonlySet<number>): Row | 'malformed' | undefined {
  const c1 = line.indexOf(',');
  const c2 = line.indexOf(',', c1 + 1);
  const c3 = line.indexOf(',', c2 + 1);
  if (c1 < 0 || c2 < 0 || c3 < 0) return 'malformed';
  const asn = Number(line.slice(c2 + 1, c3));
  if (!wanted.has(asn)) return undefined;
  const start = Number(line.slice(0, c1));
  const end = Number(line.slice(c1 + 1, c2));
  if (!isUint32(start) || !isUint32(end) || start > end) return 'malformed';
  return { asn, range: { start, end }, org: unquoteCsvField(line.slice(c3 + 1)) };
}

function addRow(table: AsnTable, row: Row): void {
  let ranges = table.ranges.get(row.asn);
  if (!ranges) table.ranges.set(row.asn, (ranges = []));
  ranges.push(row.range);
  let orgs = table.orgs.get(row.asn);
  if (!orgs) table.orgs.set(row.asn, (orgs = new Set()));
  orgs.add(row.org);
}

function isUint32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

function unquoteCsvField(field: string): string {
  if (field.length >= 2 && field.startsWith('"') && field.endsWith('"')) {
    return field.slice(1, -1).replaceAll('""', '"');
  }
  return field;
}
