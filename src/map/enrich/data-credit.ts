import { html, type Html } from '../../web/html.js';

/**
 * The credit the AS and country data's licences ask for (docs/enrichment.md#sources-licences-and-credit): the one
 * source of it for every page (a footer line), every JSON answer (an `attribution` member), every GraphML and
 * GeoJSON export and the CLI that shows an AS, an organisation or a country.
 *
 * - countries: DB-IP's IP to Country Lite (`@ip-location-db/dbip-country`, DBIP-LICENSE);
 * - AS numbers and organisations: `@ip-location-db/asn`, RouteViews' IP to AS Number database (IPv4), the five
 *   RIRs' statistics as the NRO publishes them, and DB-IP's IP to ASN Lite (most organisation names; ROUTEVIEWS-,
 *   NRO_ and DBIP-LICENSE).
 *
 * All are CC BY 4.0; DB-IP's licence also asks a web page that shows its data to link back to db-ip.com with the
 * words "IP Geolocation by DB-IP".
 */

export const DATA_LICENSE = {
  name: 'CC BY 4.0',
  spdx: 'CC-BY-4.0',
  url: 'https://creativecommons.org/licenses/by/4.0/',
} as const;

export interface DataSource {
  name: string;
  url: string;
  /** What of hopmap's data comes from it. */
  data: string;
}

export const DATA_SOURCES: readonly DataSource[] = [
  {
    name: 'DB-IP',
    url: 'https://db-ip.com',
    data: 'countries (IP to Country Lite), AS numbers and most organisation names (IP to ASN Lite)',
  },
  { name: 'RouteViews', url: 'https://www.routeviews.org', data: 'AS numbers of IPv4 space (IP to AS Number)' },
  { name: 'NRO', url: 'https://www.nro.net', data: "AS numbers (the five RIRs' statistics)" },
];

/** The credit as one line of text, for the CLI, GraphML's `<desc>` and the `text` of JSON's `attribution`. */
export const DATA_CREDIT_TEXT =
  'AS and country data: IP Geolocation by DB-IP (https://db-ip.com): the IP to Country Lite and IP to ASN Lite ' +
  'databases by DB-IP.com; the IP to AS Number database created by Route Views (routeviews.org); RIR statistics ' +
  `by the NRO (nro.net). Licensed under the Creative Commons Attribution 4.0 International License (${DATA_LICENSE.url}).`;

/** The `attribution` member of every JSON answer (and the GeoJSON FeatureCollection) that carries AS or country data. */
export const DATA_ATTRIBUTION = {
  text: DATA_CREDIT_TEXT,
  license: DATA_LICENSE.spdx,
  license_url: DATA_LICENSE.url,
  sources: DATA_SOURCES.map(({ name, url }) => ({ name, url })),
} as const;

/** The footer line of a page that shows AS or country data, with the link DB-IP's licence asks for. */
export function dataCreditHtml(): Html {
  return html`<p class="data-credit">AS and country data: <a href="https://db-ip.com">IP Geolocation by DB-IP</a> (IP to Country Lite, IP to ASN Lite), <a href="https://www.routeviews.org">RouteViews</a> and the RIRs' statistics by the <a href="https://www.nro.net">NRO</a>, under <a href="${DATA_LICENSE.url}" rel="license">${DATA_LICENSE.name}</a>.</p>`;
}
