import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** One range table and the package files that fill it (CSV, `first,last,…` with addresses as text). */
export interface RangeSource {
  source: 'asn' | 'country';
  table: 'asn_ranges' | 'country_ranges';
  columns: string;
  package: string;
  version: string;
  files: string[];
}

const require = createRequire(import.meta.url);

function installed(name: string): { dir: string; version: string } {
  const manifest = require.resolve(`${name}/package.json`);
  return {
    dir: dirname(manifest),
    version: (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version,
  };
}

/** The data the runtime ships: RouteViews/DB-IP AS numbers and DB-IP Lite countries, IPv4 and IPv6. */
export function installedRangeSources(): RangeSource[] {
  const asn = installed('@ip-location-db/asn');
  const country = installed('@ip-location-db/dbip-country');
  return [
    {
      source: 'asn',
      table: 'asn_ranges',
      columns: 'first, last, asn, org',
      package: '@ip-location-db/asn',
      version: asn.version,
      files: ['asn-ipv4.csv', 'asn-ipv6.csv'].map((f) => join(asn.dir, f)),
    },
    {
      source: 'country',
      table: 'country_ranges',
      columns: 'first, last, country',
      package: '@ip-location-db/dbip-country',
      version: country.version,
      files: ['dbip-country-ipv4.csv', 'dbip-country-ipv6.csv'].map((f) => join(country.dir, f)),
    },
  ];
}
